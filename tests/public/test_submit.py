"""Submitting the survey: validation keeps answers, exactly once, drafts, hostile posts."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey_app.models import AccessToken, Answer, Response
from survey_app.services.responses import answer_values
from tests.public.conftest import RELOCATED_ANSWERS, form_data


def _responses(session) -> list[Response]:
    return session.exec(select(Response).order_by(Response.id)).all()


def _answers(**changes) -> dict:
    answers = dict(RELOCATED_ANSWERS)
    for qid, value in changes.items():
        if value is None:
            answers.pop(qid)
        else:
            answers[qid] = value
    return answers


def test_missing_required_answer_keeps_every_other_answer(client, session, survey_campaign):
    token = survey_campaign.token()
    response = client.post(f"/s/{token}", data=form_data(
        _answers(overall_satisfaction=None, age_band="2", comments="路灯坏了"), str(uuid.uuid4())))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for qid, value in _answers(overall_satisfaction=None, age_band="2").items():
        if qid in ("comments", "household_size"):
            continue
        assert f'name="a_{qid}" value="{value}" checked' in page, qid
    assert 'value="3"' in page and ">路灯坏了</textarea>" in page
    # The problem is shown next to the question, not only at the top.
    block = re.search(r'<div class="q has-error" id="q-overall_satisfaction">.*?</div>', page,
                      re.S).group(0)
    assert "请回答本题。" in block
    assert 'aria-describedby="e-overall_satisfaction"' in block
    assert '<a href="#q-overall_satisfaction">第 15 题</a>' in page  # summary links to it
    assert _responses(session) == []


@pytest.mark.parametrize("changes, qid, message", [
    ({"age_band": None}, "age_band", "请回答本题。"),
    ({"age_band": "7"}, "age_band", "请从所列选项中选择。"),
    ({"household_size": "35"}, "household_size", "请填写 1 到 20 之间的整数。"),
    ({"household_size": "三"}, "household_size", "请填写整数，例如 3。"),
    ({"comments": "长" * 501}, "comments", "回答过长，请精简。"),
    ({"complaint_handling": None}, "complaint_handling", "请回答本题。"),
])
def test_each_answer_problem_is_explained_in_chinese(client, session, survey_campaign, changes,
                                                     qid, message):
    response = client.post(f"/s/{survey_campaign.token()}",
                           data=form_data(_answers(**changes), str(uuid.uuid4())))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="e-{qid}">{message}</p>' in page
    assert _responses(session) == []


def test_full_width_digits_are_accepted(client, session, survey_campaign):
    response = client.post(f"/s/{survey_campaign.token()}",
                           data=form_data(_answers(household_size="３"), str(uuid.uuid4())))
    assert response.status_code == 302
    assert answer_values(_responses(session)[0], session=session)["household_size"] == 3


def test_double_submit_stores_one_response_with_one_receipt(client, session, survey_campaign):
    token, instance = survey_campaign.token(), str(uuid.uuid4())
    first = client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance))
    second = client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    [stored] = _responses(session)
    assert stored.status == "complete" and len(stored.receipt_code) == 8
    assert stored.mode == "web_token" and stored.household_id is not None
    receipt = client.get(first.headers["Location"])
    assert stored.receipt_code in receipt.get_data(as_text=True)
    token_row = session.exec(select(AccessToken).where(AccessToken.used_at.is_not(None))).one()
    assert token_row.household_id == stored.household_id


def test_conflicting_resubmit_is_refused_and_keeps_the_original(client, session,
                                                                survey_campaign):
    token, instance = survey_campaign.token(), str(uuid.uuid4())
    client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance))
    [stored] = _responses(session)
    before = answer_values(stored, session=session)
    changed = client.post(f"/s/{token}",
                          data=form_data(_answers(overall_satisfaction="1"), instance))
    assert changed.status_code == 409
    assert "此问卷已按其他答案提交" in changed.get_data(as_text=True)
    session.expire_all()
    [after] = _responses(session)
    assert after.payload_hash == stored.payload_hash
    assert answer_values(after, session=session) == before
    assert before["overall_satisfaction"] == "4"


def test_a_used_token_refuses_a_second_response(client, session, survey_campaign):
    token = survey_campaign.token()
    client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    again = client.post(f"/s/{token}", data=form_data(_answers(overall_satisfaction="1"),
                                                      str(uuid.uuid4())))
    assert again.status_code == 200
    assert "您已完成本问卷" in again.get_data(as_text=True)
    assert len(_responses(session)) == 1


def test_an_answer_to_a_hidden_question_is_not_stored(client, session, survey_campaign):
    # has_complained = 2 hides complaint_handling; posting it anyway must not store it.
    answers = _answers(has_complained="2", complaint_handling="1")
    response = client.post(f"/s/{survey_campaign.token()}",
                           data=form_data(answers, str(uuid.uuid4())))
    assert response.status_code == 302
    stored = session.exec(select(Answer.question_id)).all()
    assert "complaint_handling" not in stored
    assert "has_complained" in stored and len(stored) == 15


def test_draft_is_saved_resumed_and_completed_as_one_response(client, session,
                                                               survey_campaign):
    token = survey_campaign.token()
    saved = client.post(f"/s/{token}", data={
        "instance_id": str(uuid.uuid4()), "save": "暂存", "a_age_band": "3",
        "a_benefit_standard": "2", "a_household_size": "99"})  # 99: invalid, not kept
    assert saved.status_code == 302 and saved.headers["Location"] == f"/s/{token}"
    [draft] = _responses(session)
    assert draft.status == "partial" and draft.receipt_code is None
    assert answer_values(draft, session=session) == {"age_band": "3", "benefit_standard": "2"}
    assert session.exec(select(AccessToken.used_at).where(
        AccessToken.revoked_at.is_(None), AccessToken.used_at.is_not(None))).first() is None

    resumed = client.get(f"/s/{token}").get_data(as_text=True)
    assert "答案已暂存" in resumed
    assert 'name="a_age_band" value="3" checked' in resumed
    assert 'name="a_benefit_standard" value="2" checked' in resumed

    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"', resumed).group(1)
    done = client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance))
    assert done.status_code == 302
    session.expire_all()
    [completed] = _responses(session)
    assert completed.id == draft.id and completed.status == "complete"
    assert completed.receipt_code and completed.instance_id == instance
    assert answer_values(completed, session=session) == answer_values(completed,
                                                                       session=session)
    assert answer_values(completed, session=session)["age_band"] == "4"
    # A retry of the final submit is still recognised.
    assert client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance)).headers[
        "Location"] == done.headers["Location"]


def test_draft_is_not_counted_as_complete(client, session, survey_campaign):
    client.post(f"/s/{survey_campaign.token()}", data={
        "instance_id": str(uuid.uuid4()), "save": "暂存", "a_age_band": "3"})
    complete = session.exec(select(func.count()).select_from(Response).where(
        Response.status == "complete")).one()
    assert complete == 0


NUL = "\x00"


@pytest.mark.parametrize("data", [
    pytest.param({"a_age_band": ["1", "2"]}, id="list-for-single-choice"),
    pytest.param({"a_household_size": ["3", "4"]}, id="list-for-integer"),
    pytest.param({"a_household_size": "9" * 5000}, id="huge-integer"),
    pytest.param({"a_comments": "x" * 200_000}, id="huge-text"),
    pytest.param({"a_age_band": "1" + NUL}, id="nul-in-choice"),
    pytest.param({"a_comments": NUL * 10}, id="nul-only-text"),
    pytest.param({f"garbage{NUL}{i}": "x" * 100 for i in range(200)}, id="garbage-keys"),
    pytest.param({"instance_id": "not-a-uuid"}, id="bad-instance-id"),
    pytest.param({"instance_id": ["a", "b"]}, id="instance-id-list"),
    pytest.param({"instance_id": ""}, id="no-instance-id"),
])
def test_malformed_posts_never_cause_a_server_error(client, session, survey_campaign, data):
    posted = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))
    posted.update(data)
    response = client.post(f"/s/{survey_campaign.token()}", data=posted)
    assert response.status_code in (302, 400, 422)
    for stored in _responses(session):  # whatever got through was cleaned
        values = answer_values(stored, session=session)
        assert all(NUL not in str(v) for v in values.values())


def test_invalid_utf8_in_a_post_is_not_a_server_error(client, session, survey_campaign):
    body = (f"instance_id={uuid.uuid4()}&submit=1&a_age_band=%ED%A0%80"
            "&a_comments=%FF%FE%00").encode()
    response = client.post(f"/s/{survey_campaign.token()}", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 422)
    assert _responses(session) == []


def test_oversized_post_is_refused_with_413(make_app, session, survey_campaign):
    client = make_app(MAX_CONTENT_LENGTH=64 * 1024).test_client()
    response = client.post(f"/s/{survey_campaign.token()}", data=form_data(
        _answers(comments="x" * 100_000), str(uuid.uuid4())))
    assert response.status_code == 413
    assert _responses(session) == []


def test_expired_csrf_token_keeps_the_answers(make_app, session, survey_campaign):
    app = make_app(WTF_CSRF_ENABLED=True)
    token = survey_campaign.token()
    client = app.test_client()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    old_csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"', page).group(1)

    later = app.test_client()  # the session cookie is gone: the old token no longer verifies
    refused = later.post(f"/s/{token}",
                         data=form_data(RELOCATED_ANSWERS, instance, csrf_token=old_csrf))
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "页面已过期，但您的答案都已保留" in page
    assert 'name="a_overall_satisfaction" value="4" checked' in page
    assert ">希望加快进度</textarea>" in page
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert fresh != old_csrf
    assert _responses(session) == []

    accepted = later.post(f"/s/{token}",
                          data=form_data(RELOCATED_ANSWERS, instance, csrf_token=fresh))
    assert accepted.status_code == 302
    assert len(_responses(session)) == 1


def _submit_events(session) -> list:
    from survey_app.models import AuditEvent

    return session.exec(select(AuditEvent).where(AuditEvent.action == "response.submit")
                        .order_by(AuditEvent.id)).all()


def test_each_completed_submission_is_audited_once(client, session, survey_campaign):
    # An open-link submit, a token submit, and a token submit completing a saved draft; the
    # repeats of each post add nothing.
    slug = survey_campaign.campaign.slug
    posts = [(f"/c/{slug}/relocated", form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))),
             (f"/s/{survey_campaign.token(index=0)}",
              form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))]
    drafted = survey_campaign.token(index=1)
    assert client.post(f"/s/{drafted}", data={"instance_id": str(uuid.uuid4()), "save": "暂存",
                                              "a_benefit_standard": "2"}).status_code == 302
    posts.append((f"/s/{drafted}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))))
    for path, body in posts + posts:
        assert client.post(path, data=body).status_code == 302
    completed = [r for r in _responses(session) if r.status == "complete"]
    events = _submit_events(session)
    assert len(events) == 3
    assert sorted(e.object_id for e in events) == sorted(str(r.id) for r in completed)
    assert {e.campaign_id for e in events} == {survey_campaign.campaign.id}
    assert [(e.actor_label, e.object_type, e.details) for e in events] == [
        ("resident", "response", {"mode": "web_open", "group": "relocated"}),
        ("resident", "response", {"mode": "web_token", "group": "relocated"}),
        ("resident", "response", {"mode": "web_token", "group": "relocated"})]
