"""Bulk decisions about one quality flag (issue 16, item 7): all flagged at once, audited."""

from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, Response, Role
from survey_app.services import bulk_exclusion, campaigns, demo, quality_flags
from tests.factories import make_user


def _make_fast(session, count):
    fast = session.exec(select(Response).where(Response.status == "complete")
                        .order_by(Response.id).limit(count)).all()
    for response in fast:
        response.started_at = response.submitted_at - timedelta(seconds=15)
        session.add(response)
    session.flush()
    return {r.id for r in fast}


def _too_fast(campaign, session):
    return {i for i, found in quality_flags.campaign_flags(campaign, session=session).items()
            if "too_fast" in [f.kind for f in found]}


@pytest.mark.demo_data
def test_exclude_then_include_every_response_with_a_flag(runner, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    fast = _make_fast(session, 4)
    flagged = _too_fast(campaign, session)
    assert fast <= flagged
    evaluator = make_user(session, Role.EVALUATOR)

    result = runner.invoke(args=["responses", "exclude", demo.SLUG, "--flag", "too_fast",
                                 "--reason", "answered in 15 s", "--by", evaluator.username])
    assert result.exit_code == 0, result.output
    assert f"{len(flagged)} responses flagged too_fast excluded" in result.output
    excluded = set(session.exec(select(Response.id).where(Response.excluded)).all())
    assert flagged <= excluded
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.exclude")).all()
    assert {int(e.object_id) for e in events} >= flagged
    assert all(e.actor_id == evaluator.id and e.reason == "answered in 15 s" for e in events)
    bulk = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.bulk_exclude")).one()
    assert bulk.details == {"flag": "too_fast", "responses": len(flagged),
                            "kept": 0}

    again = runner.invoke(args=["responses", "exclude", demo.SLUG, "--flag", "too_fast",
                                "--reason", "again", "--by", evaluator.username])
    assert f"0 responses flagged too_fast excluded; {len(flagged)} were already" in again.output

    back = runner.invoke(args=["responses", "include", demo.SLUG, "--flag", "too_fast",
                               "--reason", "checked by phone", "--by", evaluator.username])
    assert back.exit_code == 0
    assert not set(session.exec(select(Response.id).where(Response.excluded)).all()) & flagged


@pytest.mark.demo_data
@pytest.mark.parametrize(("args", "message"), [
    (["--flag", "fast", "--reason", "r"], "unknown flag 'fast'"),
    (["--flag", "too_fast", "--reason", "  "], "须填写理由"),
])
def test_bad_decisions_are_refused_and_change_nothing(runner, session, args, message):
    evaluator = make_user(session, Role.EVALUATOR)
    _make_fast(session, 2)
    result = runner.invoke(args=["responses", "exclude", demo.SLUG, *args,
                                 "--by", evaluator.username])
    assert result.exit_code == 1 and message in result.output
    assert session.exec(select(Response.id).where(Response.excluded)).first() is None


@pytest.mark.demo_data
def test_workers_cannot_decide(session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    worker = make_user(session, Role.WORKER)
    with pytest.raises(bulk_exclusion.BulkExclusionError, match="不是在用的评价人员或管理员账号"):
        bulk_exclusion.decide_flagged(campaign, "too_fast", exclude=True, reason="x",
                                      actor=worker, session=session)


@pytest.mark.demo_data
def test_an_evaluator_reads_a_flagged_response_before_deciding(app, client, session):
    from tests.factories import login

    fast = _make_fast(session, 1)
    (response_id,) = fast
    evaluator = make_user(session, Role.EVALUATOR)
    login(client, evaluator)
    quality = client.get(f"/evaluate/{demo.SLUG}/quality").get_data(as_text=True)
    assert f"/evaluate/{demo.SLUG}/responses/{response_id}" in quality
    page = client.get(f"/evaluate/{demo.SLUG}/responses/{response_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "作答用时" in text and "15秒" in text
    assert "作答过快" in text
    # Every question with its chosen option's label and code, in questionnaire order.
    from survey_app.services import response_view

    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    detail = response_view.response_detail(campaign, response_id, session=session)
    assert [q.number for q in detail.questions] == list(range(1, len(detail.questions) + 1))
    assert detail.questions[0].text == "您是否为户主？"
    assert detail.questions[0].answer in ("是（1）", "否（2）")
    for q in detail.questions:
        assert q.text in text
    before = session.exec(select(AuditEvent)).all()
    assert client.get(f"/evaluate/{demo.SLUG}/responses/999999").status_code == 404
    assert session.exec(select(AuditEvent)).all() == before  # reading changes nothing
    assert not session.get(Response, response_id).excluded
