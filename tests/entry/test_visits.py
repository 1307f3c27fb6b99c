"""The visit log: attempts recorded from the household page, their checks, the field
progress summaries, and the worker's visit list with the vault's addresses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, CampaignStatus, Disposition, Visit
from survey_app.services import contact_vault, visits
from survey_app.services.contact_vault import Contact
from survey_app.services.paper_entry import printed_code
from survey_app.services.score_filters import BEIJING
from tests.entry.conftest import UserClient
from tests.fixtures.settings import TEST_SETTINGS


def _url(world, household, tail=""):
    return f"/entry/{world.campaign.slug}/households/{household.id}{tail}"


def _typed(at: datetime, **fields) -> dict[str, str]:
    return {"channel": "visit", "outcome": "not_at_home",
            "attempted_at": at.strftime("%Y-%m-%d %H:%M"), "note": "", **fields}


def _beijing_now() -> datetime:
    return datetime.now(UTC).astimezone(BEIJING).replace(second=0, microsecond=0, tzinfo=None)


def test_a_worker_records_two_attempts_and_the_page_lists_them(app, session, world):
    worker = UserClient(app, world.worker_a)
    household = world.households_a[0]
    first_at = _beijing_now() - timedelta(days=1, hours=2)
    second_at = _beijing_now() - timedelta(hours=1)
    appointment = (second_at + timedelta(days=2)).replace(hour=19, minute=0)
    response = worker.post(_url(world, household, "/visits"),
                           data=_typed(first_at, note="敲门无人应答"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("from=visits")
    response = worker.post(_url(world, household, "/visits"), data=_typed(
        second_at, channel="phone", outcome="contacted",
        next_appointment=appointment.strftime("%Y-%m-%d %H:%M")))
    assert response.status_code == 302
    logged = session.exec(select(Visit).where(Visit.household_id == household.id)
                          .order_by(Visit.attempted_at)).all()
    assert [(v.channel, v.outcome, v.worker_id) for v in logged] == [
        ("visit", "not_at_home", world.worker_a.id), ("phone", "contacted", world.worker_a.id)]
    # Typed as Beijing time, stored as the same instant.
    assert visits.beijing(logged[0].attempted_at).replace(tzinfo=None) == first_at
    assert visits.beijing(logged[1].next_appointment).replace(tzinfo=None) == appointment
    assert logged[0].note == "敲门无人应答"
    session.refresh(household)
    assert household.disposition == Disposition.CONTACTED
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "visit.record")
                          .order_by(AuditEvent.id)).all()
    assert [e.details["attempt"] for e in events] == [1, 2]
    assert all("note" not in e.details for e in events)  # free text stays out of the trail
    page = worker.get(_url(world, household, "?lang=en&from=visits")).get_data(as_text=True)
    assert "敲门无人应答" in page and appointment.strftime("%Y-%m-%d %H:%M") in page
    assert "4 Not at home" in page and "2 Contacted, no answer yet" in page
    assert "autofocus" in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"attempted_at": "yesterday"}, "Not a valid datetime value"),
    ({"outcome": ""}, "This field is required"),
    ({"outcome": "pending"}, "Not a valid choice"),
    ({"attempted_at": "2999-01-01 10:00"}, "in the future"),
    ({"attempted_at": "0001-01-01 00:00"}, "before the survey began"),
    ({"attempted_at": "2010-01-01 10:00"}, "before the survey began"),
    ({"next_appointment": "2020-01-01 10:00"}, "must come after this attempt"),
])
def test_a_rejected_attempt_says_why_and_keeps_what_was_typed(app, session, world, fields,
                                                              message):
    worker = UserClient(app, world.worker_a)
    typed = _typed(_beijing_now() - timedelta(hours=1), note="留言已贴门上", **fields)
    response = worker.post(_url(world, world.households_a[0], "/visits?lang=en"), data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="留言已贴门上"' in page and f'value="{typed["attempted_at"]}"' in page
    assert session.exec(select(Visit)).first() is None


def test_an_attempt_before_the_opening_day_is_refused_at_its_field(app, session, world):
    # F12: the bound is the campaign's opening day (Beijing midnight) when it has one, else
    # when the campaign was set up; the message stands by the date and names the day.
    from datetime import date

    world.campaign.opens_on = date(2026, 11, 1)
    session.add(world.campaign)
    session.flush()
    worker = UserClient(app, world.worker_a)
    typed = _typed(datetime(2026, 10, 31, 23, 50), note="留言已贴门上")
    response = worker.post(_url(world, world.households_a[0], "/visits?lang=en"), data=typed)
    page = response.get_data(as_text=True)
    field = re.search(r'<div class="field has-error">(.*?)</div>', page, re.S)
    assert field and 'name="attempted_at"' in field.group(1)
    assert "before the survey began (2026-11-01)" in field.group(1)
    assert "autofocus" in field.group(1) and page.count("autofocus") == 1  # the cursor there
    assert 'value="留言已贴门上"' in page and 'value="2026-10-31 23:50"' in page
    assert session.exec(select(Visit)).first() is None
    on_the_day = _typed(datetime(2026, 11, 1, 0, 5))
    assert worker.post(_url(world, world.households_a[0], "/visits"),
                       data=on_the_day).status_code == 302


def test_attempts_are_refused_outside_the_field_and_for_another_community(app, session, world):
    worker_b = UserClient(app, world.worker_b)
    typed = _typed(_beijing_now())
    assert worker_b.post(_url(world, world.households_a[0], "/visits"),
                         data=typed).status_code == 404
    world.campaign.status = CampaignStatus.CLOSED
    session.flush()
    response = UserClient(app, world.worker_a).post(
        _url(world, world.households_a[0], "/visits?lang=en"), data=typed)
    assert "only while the campaign is in the field" in response.get_data(as_text=True)
    assert session.exec(select(Visit)).first() is None


def test_a_completed_household_keeps_its_outcome_when_an_attempt_is_logged(session, world):
    household = world.households_a[0]
    household.disposition = Disposition.COMPLETED
    from tests.entry.test_progress_and_print import _respond

    _respond(session, world, household, "paper")
    visits.record_visit(session=session, campaign=world.campaign, household=household,
                        worker=world.worker_a, attempted_at=datetime.now(UTC),
                        channel="phone", outcome="refused")
    assert household.disposition == Disposition.COMPLETED
    assert len(visits.visits_of(household, session=session)) == 1


def test_progress_counts_attempts_per_household_and_per_worker_and_day(app, session, world):
    from datetime import date

    world.campaign.opens_on = date(2021, 11, 1)  # the 2021 wave (no attempt before it)
    a = world.households_a
    # Beijing days: 2021-11-03 (UTC 16:30 on the 2nd is 00:30 on the 3rd) and 2021-11-04.
    plan = [
        (a[0], world.worker_a, datetime(2021, 11, 2, 16, 30, tzinfo=UTC), "visit"),
        (a[0], world.worker_a, datetime(2021, 11, 3, 9, 0, tzinfo=UTC), "phone"),
        (a[0], world.worker_a2, datetime(2021, 11, 4, 2, 0, tzinfo=UTC), "visit"),
        (a[0], world.worker_a, datetime(2021, 11, 4, 3, 0, tzinfo=UTC), "visit"),
        (a[1], world.worker_a, datetime(2021, 11, 3, 1, 0, tzinfo=UTC), "visit"),
        (a[2], world.worker_a2, datetime(2021, 11, 3, 2, 0, tzinfo=UTC), "phone"),
        (a[2], world.worker_a2, datetime(2021, 11, 3, 3, 0, tzinfo=UTC), "phone"),
    ]
    for household, worker, at, channel in plan:
        visits.record_visit(session=session, campaign=world.campaign, household=household,
                            worker=worker, attempted_at=at, channel=channel,
                            outcome="not_at_home")
    summary = visits.attempt_summary(a, session=session)
    assert summary.by_attempts == {"0": 27, "1": 1, "2": 1, "3+": 1}
    assert summary.mean == pytest.approx(7 / 30, rel=1e-12)
    days = visits.attempts_by_worker_day(world.campaign, [h.id for h in a], session=session)
    name = {world.worker_a.id: world.worker_a.display_name or world.worker_a.username,
            world.worker_a2.id: world.worker_a2.display_name or world.worker_a2.username}
    expected = sorted([
        ("2021-11-04", name[world.worker_a.id], 1, 0, 1),
        ("2021-11-04", name[world.worker_a2.id], 1, 0, 1),
        ("2021-11-03", name[world.worker_a.id], 2, 1, 2),  # a[0] twice and a[1]
        ("2021-11-03", name[world.worker_a2.id], 0, 2, 1),
    ], key=lambda row: (row[0], row[1]))
    got = [(d.day.isoformat(), d.worker, d.visits, d.calls, d.households) for d in days]
    assert sorted(got, key=lambda row: (row[0], row[1])) == expected
    assert [d.day.isoformat() for d in days] == sorted((d.day.isoformat() for d in days),
                                                       reverse=True)
    page = UserClient(app, world.worker_a).get(
        f"/entry/{world.campaign.slug}/progress?lang=en").get_data(as_text=True)
    assert "Attempts per worker and day" in page and "0.23" in page
    listing = UserClient(app, world.worker_a).get(
        f"/entry/{world.campaign.slug}/households").get_data(as_text=True)
    counts = {h.household_code: re.search(
        re.escape(printed_code(h)) + r'</a></td>\n.*?<td class="num">(\d+)</td>', listing,
        re.S).group(1) for h in a[:4]}
    assert counts == {a[0].household_code: "4", a[1].household_code: "1",
                      a[2].household_code: "2", a[3].household_code: "0"}


def test_the_visit_list_is_masked_until_the_worker_asks_and_each_reveal_is_audited(
        app, session, world):
    sealed, unsealed = world.households_a[0], world.households_a[1]
    contact_vault.seal_household(sealed, Contact("赵六", "龙岭路8号2栋101室", "13700000008"),
                                 secret=TEST_SETTINGS["CONTACT_KEY"])
    world.households_a[2].disposition = Disposition.COMPLETED  # nothing left to visit
    session.flush()
    worker = UserClient(app, world.worker_a)
    url = f"/entry/{world.campaign.slug}/visits?lang=en"
    listed = worker.get(url)
    page = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "赵六" not in page
    assert world.households_a[2].household_code not in page
    assert page.count("Attempt 3") == 1 and "AAPOR" not in page  # no jargon for workers
    shown = worker.post(url)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "赵六" in page and "龙岭路8号2栋101室" in page and "13700000008" in page
    assert "no clear contact data" in page  # the households imported before the vault
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.reveal")).all()
    assert [(e.object_id, e.reason, e.actor_id) for e in events] == [
        (str(sealed.id), "visit_list", world.worker_a.id)]
    assert unsealed.household_code in page
    # Another community's worker gets their own list, never A's households.
    other = UserClient(app, world.worker_b).post(url).get_data(as_text=True)
    assert "赵六" not in other and sealed.household_code not in other
    # Administrators choose a community and never see the clear text.
    admin = UserClient(app, world.admin)
    assert admin.get(url).status_code == 404
    assert admin.get(url + f"&community={world.community_a.id}").status_code == 200
    assert admin.post(url).status_code == 403
