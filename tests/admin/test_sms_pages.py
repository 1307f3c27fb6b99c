"""The SMS page (waves, preview, confirmed send) and the reminder effect on field progress
(responses per day with the waves marked, response rate by wave), issue 21 items 4-5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey_app.models import (
    Campaign,
    MessageStatus,
    OutboxMessage,
    QuestionnaireVersion,
    Response,
    Role,
    SmsWave,
)
from survey_app.services import questionnaire_versions, sms_effect, sms_waves
from survey_app.services.answer_copies import answer_copies
from tests.factories import login, make_user
from tests.services.sms_field import build_field


@pytest.fixture
def admin_client(session, client):
    login(client, make_user(session, Role.ADMIN))
    return client


def test_the_admin_previews_a_wave_and_sends_it_once_confirmed(session, admin_client):
    field = build_field(session, 20)
    slug = field.slug
    page = admin_client.get(f"/admin/campaigns/{slug}/sms")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="preview-count">12<' in html and "•" in html
    assert not any(phone in html for phone in field.phones)

    unconfirmed = admin_client.post(f"/admin/campaigns/{slug}/sms/waves", data={"number": 0})
    assert unconfirmed.status_code == 400
    assert session.exec(select(SmsWave)).all() == []
    sent = admin_client.post(f"/admin/campaigns/{slug}/sms/waves",
                             data={"number": 0, "confirm": "y"})
    assert sent.status_code == 302
    assert len(session.exec(select(OutboxMessage)).all()) == 12
    again = admin_client.post(f"/admin/campaigns/{slug}/sms/waves",
                              data={"number": 0, "confirm": "y"}, follow_redirects=True)
    assert len(session.exec(select(SmsWave)).all()) == 1  # the same preview: refused
    assert "在此期间已有另一轮短信写入" in again.get_data(as_text=True)
    page = admin_client.get(f"/admin/campaigns/{slug}/sms").get_data(as_text=True)
    assert 'id="preview-count">12<' in page  # the reminder would go to the same households


def _answer(session, campaign_id, household_id, at):
    version = session.exec(select(Response)).first().questionnaire_version_id
    questionnaire = questionnaire_versions.questionnaire_of(
        session.get(QuestionnaireVersion, version))
    session.add(Response(campaign_id=campaign_id, household_id=household_id,
                         household_group="relocated", questionnaire_version_id=version,
                         mode="web_token", instance_id=f"e-{household_id}", submitted_at=at,
                         **answer_copies({}, questionnaire)))
    session.flush()


def test_responses_per_day_mark_the_waves_and_the_rate_by_wave_counts_its_window(
        session, client):
    t0 = datetime(2021, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing
    field = build_field(session, 20, answered_at=t0 - timedelta(days=1))
    campaign = session.get(Campaign, field.campaign_id)
    eligible = list(field.eligible)  # 12 households
    invitation = sms_waves.create_wave(campaign, session=session, now=t0)
    for message in session.exec(select(OutboxMessage)).all():
        message.status, message.sent_at = MessageStatus.SENT, t0
        session.add(message)
    session.flush()
    for household in eligible[:3]:  # three answer the invitation the same day
        _answer(session, campaign.id, household, t0 + timedelta(hours=1))
    reminder = sms_waves.create_wave(campaign, session=session, now=t0 + timedelta(days=2))
    for message in session.exec(select(OutboxMessage).where(
            OutboxMessage.wave_id == reminder.id)).all():
        message.status, message.sent_at = MessageStatus.DELIVERED, t0 + timedelta(days=2)
        session.add(message)
    session.flush()
    _answer(session, campaign.id, eligible[5], t0 + timedelta(days=2, hours=3))

    sampled = [h for h in (*field.eligible, *field.answered, *field.opted_out,
                           *field.landline, *field.no_phone)]
    effect = sms_effect.reminder_effect(campaign, sampled, session=session)

    # By hand: 2 answered on 30 Nov (i = 0, 10; before any wave), 3 on 1 Dec (the
    # invitation's day), 1 on 3 Dec (the reminder's).
    assert [(d.day.isoformat(), d.responses, d.waves) for d in effect.days] == [
        ("2021-11-30", 2, ()), ("2021-12-01", 3, ("0",)), ("2021-12-03", 1, ("1",))]
    assert [(w.number, w.messaged, w.responded, w.responses_in_window)
            for w in effect.waves] == [(0, 12, 3, 3), (1, 9, 1, 1)]
    assert effect.waves[0].rate == 3 / 12 and effect.waves[1].rate == 1 / 9
    assert invitation.number == 0

    login(client, make_user(session, Role.ADMIN))
    html = client.get(f"/entry/{campaign.slug}/progress").get_data(as_text=True)
    assert 'id="waves"' in html and "2021-12-03" in html and "25.0%" in html
