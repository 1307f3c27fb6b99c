"""Data-quality flags and audited exclusions; scores with and without exclusions."""

from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app.models import Answer, AuditEvent, Response
from survey_app.services import demo, quality_flags, scores
from survey_app.services.score_filters import ScoreFilters
from tests.factories import login, make_user


@pytest.mark.demo_data
def test_flags_and_exclusion_change_the_counted_data(app, client, session):
    from survey_app.services import campaigns

    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    fast, flat = session.exec(select(Response).where(Response.status == "complete")
                              .order_by(Response.id).limit(2)).all()
    fast.started_at = fast.submitted_at - timedelta(seconds=20)
    session.add(fast)
    for answer in session.exec(select(Answer).where(Answer.response_id == flat.id)).all():
        if answer.code in ("1", "2", "3", "4", "5") and answer.question_id not in (
                "is_household_head", "age_band", "knows_policy", "has_complained"):
            answer.code = "5"
            session.add(answer)
    # The copy the flags and the scores read, as services.answer_copies writes it.
    flat.rating_codes = "".join("5" if code in "12345" else code for code in flat.rating_codes)
    session.add(flat)
    session.flush()
    flagged = {i: [f.kind for f in found] for i, found in
               quality_flags.campaign_flags(campaign, session=session).items()}
    assert "too_fast" in flagged[fast.id]
    assert "straight_lining" in flagged[flat.id]

    user = make_user(session)
    login(client, user)
    page = client.get(f"/evaluate/{demo.SLUG}/quality")
    assert page.status_code == 200 and str(fast.id) in page.get_data(as_text=True)
    before = scores.scores_document(campaign, session=session).n_respondents
    rejected = client.post(f"/evaluate/{demo.SLUG}/responses/{fast.id}/exclusion",
                           data={"action": "exclude", "reason": ""})
    assert rejected.status_code == 302 and not session.get(Response, fast.id).excluded
    done = client.post(f"/evaluate/{demo.SLUG}/responses/{fast.id}/exclusion",
                       data={"action": "exclude", "reason": "answered in 20 seconds"})
    assert done.status_code == 302 and session.get(Response, fast.id).excluded
    after = scores.scores_document(campaign, session=session).n_respondents
    without = scores.scores_document(campaign, ScoreFilters(include_excluded=True),
                                     session=session).n_respondents
    assert (before, after, without) == (before, before - 1, before)
    # The dashboard shows the indicator beside it with the excluded response counted.
    points = scores.scores_document(campaign, ScoreFilters(include_excluded=True),
                                    session=session).indicator.points_earned
    dashboard = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
    assert f"<p>如计入评价人员剔除的问卷：得{points:.2f}分（共{before}份问卷）。</p>" in dashboard
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "response.exclude")).one()
    assert event.actor_id == user.id and event.reason == "answered in 20 seconds"


@pytest.mark.demo_data
def test_workers_cannot_open_the_dashboard(app, client, session):
    login(client, make_user(session, "worker"))
    assert client.get(f"/evaluate/{demo.SLUG}").status_code == 403
    assert client.get(f"/evaluate/{demo.SLUG}/export/csv").status_code == 403


@pytest.mark.demo_data
def test_open_link_bursts_and_web_and_paper_households_are_flagged(app, session):
    """Burst and mixed-mode flags, with open-link submits at the very same instant."""
    from survey_app.models import ResponseMode
    from survey_app.services import campaigns

    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    complete = session.exec(select(Response).where(Response.status == "complete")
                            .order_by(Response.id)).all()
    burst, lone = complete[:3], complete[3]
    for response in (*burst, lone):
        response.mode, response.client_fingerprint = ResponseMode.WEB_OPEN, "same-device"
        response.household_id = None
    moment = burst[0].submitted_at
    for response in burst:
        # Identical timestamps must not make the burst check compare Response objects.
        response.submitted_at = moment
    lone.submitted_at = moment + timedelta(hours=2)
    paper, web = complete[4], complete[5]
    web.household_id = paper.household_id
    paper.mode, web.mode = ResponseMode.PAPER, ResponseMode.WEB_TOKEN
    session.add_all([*burst, lone, paper, web])
    session.flush()
    flagged = quality_flags.campaign_flags(campaign, session=session)
    for response in burst:
        kinds = [f.kind for f in flagged[response.id]]
        assert kinds.count("open_link_burst") == 1
        assert "3 responses within 1:00:00" in [f.detail for f in flagged[response.id]]
        # One response's flags are the campaign's flags of that response.
        assert quality_flags.response_flags(response, session=session) == flagged[response.id]
    assert "open_link_burst" not in [f.kind for f in flagged.get(lone.id, ())]
    for response in (paper, web):
        assert quality_flags.Flag("web_and_paper", 2) in flagged[response.id]
        assert quality_flags.response_flags(response, session=session) == flagged[response.id]
    assert list(flagged) == sorted(flagged)


def test_a_flood_from_one_device_is_flagged_in_one_pass():
    # 3,000 open-link responses from one fingerprint a second apart, then one a day later:
    # the windowed pass flags every response of the flood once, and not the straggler.
    from datetime import UTC, datetime

    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    flood = [(start + timedelta(seconds=i), i) for i in range(3000)]
    late = (start + timedelta(days=1), 5000)
    hits = list(quality_flags._bursts_in([*flood, late]))
    assert [i for i, _ in hits] == list(range(3000))
    # 3,000 seconds < the one-hour window: the first window holds the whole flood.
    assert hits[0][1].detail.startswith("3000 responses within")
