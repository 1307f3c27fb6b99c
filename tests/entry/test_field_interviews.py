"""Interviews synced from the offline page (issue 22): stored once with their receipt, a
repeat answered with the same receipt, a household answered elsewhere as a conflict, the
paradata apart from the answers, and the JSON routes' login and CSRF answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey_app.models import (
    AccessToken,
    AuditEvent,
    CampaignStatus,
    Disposition,
    InterviewParadata,
    Response,
    ResponseMode,
)
from survey_app.services import field_interviews as fi
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import store_response
from tests.entry.conftest import UserClient, typed_answers


def _url(world, tail: str) -> str:
    return f"/entry/{world.campaign.slug}/field/{tail}"


def _paradata(**position) -> dict:
    end = datetime.now(UTC) - timedelta(minutes=1)
    return {"started_at": (end - timedelta(minutes=6)).isoformat(),
            "ended_at": end.isoformat().replace("+00:00", "Z"),
            "question_seconds": {"is_household_head": 4.2, "overall_satisfaction": 11.0},
            "position": position or {"status": "refused"}}


def _interview(world, household, seed: int = 1, **extra) -> dict:
    return {"instance_id": str(uuid.uuid4()), "household_id": household.id,
            "answers": extra.pop("answers", None) or _answers(world, household, seed),
            "paradata": extra.pop("paradata", None) or _paradata(), **extra}


_ANSWERS: dict = {}


def _answers(world, household, seed):
    return _ANSWERS[(household.household_group, seed)]


@pytest.fixture
def worker(app, session, world):
    for group in {h.household_group for h in world.households_a + world.households_b}:
        version = version_for_group(world.campaign, group, session=session)
        for seed in (1, 2):
            _ANSWERS[(group, seed)] = typed_answers(questionnaire_of(version), seed)
    client = UserClient(app, world.worker_a)
    token = client.get(_url(world, "pack.json")).get_json()["csrf_token"]
    client.headers = {"X-CSRFToken": token}
    return client


def _send(client, world, post: dict):
    return client.post(_url(world, "interviews"), json=post, headers=client.headers)


def test_the_pack_holds_the_questionnaires_and_the_workers_households_codes_only(worker, world):
    pack = worker.get(_url(world, "pack.json")).get_json()
    assert set(pack["questionnaires"]) == {"relocated", "rental_subsidy"}
    assert pack["questionnaires"]["relocated"]["definition"]["id"] == "relocated"
    assert {h["id"] for h in pack["households"]} == {h.id for h in world.households_a}
    assert set(pack["households"][0]) == {"id", "code", "group"}  # no contact data
    assert pack["csrf_token"]


def test_an_interview_is_stored_once_and_a_repeat_gets_the_same_receipt(worker, world,
                                                                         session):
    household = world.households_a[0]
    post = _interview(world, household)
    first = _send(worker, world, post)
    assert first.status_code == 201, first.get_json()
    again = _send(worker, world, post)
    assert again.status_code == 200
    assert again.get_json()["receipt"] == first.get_json()["receipt"]
    stored = session.exec(select(Response).where(Response.household_id == household.id)).all()
    assert [(r.mode, r.entered_by_id, r.instance_id) for r in stored] == [
        (ResponseMode.INTERVIEW, world.worker_a.id, post["instance_id"])]
    assert stored[0].submitted_at - stored[0].started_at == timedelta(minutes=6)
    session.refresh(household)
    assert household.disposition == Disposition.COMPLETED
    paradata = session.exec(select(InterviewParadata)).all()
    assert [(p.response_id, p.position_status, p.question_seconds["overall_satisfaction"])
            for p in paradata] == [(stored[0].id, "refused", 11.0)]
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.interview")).all()
    assert len(events) == 1 and "answers" not in events[0].details
    # The household is done: it leaves the worker's pack.
    pack = worker.get(_url(world, "pack.json")).get_json()
    assert household.id not in {h["id"] for h in pack["households"]}


def test_the_same_instance_with_other_answers_is_a_conflict(worker, world, session):
    household = world.households_a[0]
    post = _interview(world, household)
    assert _send(worker, world, post).status_code == 201
    changed = {**post, "answers": _answers(world, household, 2)}
    refused = _send(worker, world, changed)
    assert refused.status_code == 409
    assert refused.get_json()["error"] in ("instance", "answered")
    assert len(session.exec(select(Response)).all()) == 1


def test_a_household_answered_on_the_web_gets_a_clear_conflict(worker, world, session):
    household = world.households_a[1]
    version = version_for_group(world.campaign, household.household_group, session=session)
    from questionnaires import validate_answers
    values = validate_answers(questionnaire_of(version),
                              _answers(world, household, 1)).values
    store_response(session=session, campaign=world.campaign, version=version,
                   group=household.household_group, mode=ResponseMode.WEB_TOKEN,
                   instance_id="web-1", values=values, household=household)
    session.flush()
    refused = _send(worker, world, _interview(world, household))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "answered" and body["mode"] == "web_token"
    assert "已作答" in body["message"]
    assert session.exec(select(InterviewParadata)).all() == []


def test_invalid_answers_and_bad_paradata_are_refused_without_storing(worker, world, session):
    household = world.households_a[2]
    post = _interview(world, household)
    bad = _send(worker, world, {**post, "answers": {**post["answers"], "age_band": "7"}})
    assert bad.status_code == 422 and bad.get_json()["errors"] == {"age_band": "invalid_choice"}
    late = _paradata()
    late["ended_at"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert _send(worker, world, {**post, "paradata": late}).status_code == 400
    where = _paradata(status="given", latitude=99, longitude=0, accuracy=5)
    assert _send(worker, world, {**post, "paradata": where}).get_json()["part"] == "position"
    assert _send(worker, world, {**post, "instance_id": "x"}).status_code == 400
    assert session.exec(select(Response)).all() == []


def test_a_position_given_is_kept_with_the_paradata(worker, world, session):
    post = _interview(world, world.households_a[3], paradata=_paradata(
        status="given", latitude=28.45, longitude=112.33, accuracy=12.5))
    assert _send(worker, world, post).status_code == 201
    row = session.exec(select(InterviewParadata)).one()
    assert (row.latitude, row.longitude, row.accuracy_m) == (28.45, 112.33, 12.5)


def test_a_closed_campaign_or_another_communitys_household_takes_no_interview(
        worker, world, session):
    other = _send(worker, world, _interview(world, world.households_b[0]))
    assert other.status_code == 404
    world.campaign.status = CampaignStatus.CLOSED
    session.add(world.campaign)
    session.flush()
    closed = _send(worker, world, _interview(world, world.households_a[0]))
    assert closed.status_code == 409 and closed.get_json()["error"] == "closed"


def test_a_web_token_of_the_interviewed_household_is_used_up(worker, world, session):
    household = world.households_a[4]
    token = AccessToken(household_id=household.id,
                        token_hash="f" * 64)
    session.add(token)
    session.flush()
    assert _send(worker, world, _interview(world, household)).status_code == 201
    session.refresh(token)
    assert token.used_at is not None


def test_logged_out_or_without_the_csrf_token_the_sync_is_refused(app, world, worker):
    anonymous = app.test_client()
    post = _interview(world, world.households_a[0])
    assert anonymous.get(_url(world, "pack.json")).status_code == 401
    assert anonymous.post(_url(world, "interviews"), json=post).get_json() == {"error": "login"}
    refused = worker.post(_url(world, "interviews"), json=post,
                          headers={"X-CSRFToken": "forged"})
    assert refused.status_code == 400 and refused.get_json() == {"error": "csrf"}


def test_the_page_and_its_service_worker_are_served_under_one_scope(worker, world):
    page = worker.get(_url(world, ""))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-cache"
    manifest = worker.get(_url(world, "app.webmanifest")).get_json(force=True)
    assert manifest["start_url"] == manifest["scope"] == _url(world, "")
    assert manifest["name"] == "入户访问"
    script = worker.get(_url(world, "sw.js"))
    assert script.mimetype == "text/javascript"
    assert f'FIELD_BASE = "/entry/{world.campaign.slug}/field/"' in script.get_data(as_text=True)


def test_the_addresses_kept_offline_follow_the_vault_and_are_each_audited(worker, world,
                                                                         session):
    from survey_app.services import contact_vault
    from survey_app.services.contact_vault import Contact
    from tests.fixtures.settings import TEST_SETTINGS

    sealed, done = world.households_a[0], world.households_a[1]
    for household in (sealed, done, world.households_b[0]):
        contact_vault.seal_household(household, Contact("赵六", "龙岭路8号", "13700000008"),
                                     secret=TEST_SETTINGS["CONTACT_KEY"])
        session.add(household)
    done.disposition = Disposition.COMPLETED  # interviewed: no longer on the list
    session.flush()
    reply = worker.post(_url(world, "contacts"), headers=worker.headers)
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.get_json()["contacts"] == {
        str(sealed.id): {"name": "赵六", "address": "龙岭路8号", "phone": "13700000008"}}
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.reveal")).all()
    assert [(int(e.object_id), e.details["purpose"]) for e in events] == [(sealed.id, "visit")]
    world.campaign.status = CampaignStatus.CLOSED  # out of the field: the vault refuses
    session.add(world.campaign)
    session.flush()
    refused = worker.post(_url(world, "contacts"), headers=worker.headers)
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_in_field"
    assert worker.post(_url(world, "contacts")).status_code == 400  # no CSRF token


def test_read_paradata_refuses_unknown_questions_and_long_interviews():
    now = datetime(2026, 12, 6, 3, tzinfo=UTC)
    base = {"started_at": "2026-12-06T02:00:00Z", "ended_at": "2026-12-06T02:04:00Z"}
    with pytest.raises(fi.ParadataError, match="question_seconds"):
        fi.read_paradata({**base, "question_seconds": {"nope": 1}}, question_ids={"q"}, now=now)
    with pytest.raises(fi.ParadataError, match="times"):
        fi.read_paradata({**base, "started_at": "2026-12-05T02:00:00Z"}, question_ids=set(),
                         now=now)
    with pytest.raises(fi.ParadataError, match="started_at"):
        fi.read_paradata({**base, "started_at": "2026-12-06T02:00:00"}, question_ids=set(),
                         now=now)


#: issue 22: the page, its files and the service worker, uncompressed (docs/BENCHMARKS.md).
FIELD_BUDGET = 60 * 1024


def test_the_field_page_stays_under_its_weight_budget(worker, world):
    page = worker.get(_url(world, ""))
    urls = [_url(world, "sw.js"), _url(world, "app.webmanifest"),
            *(f"/static/{name}" for name in
                                     ("field.css", "field-rules.js", "field-store.js",
                                      "field.js"))]
    html = page.get_data(as_text=True)
    assert all(url in html for url in urls[1:])  # everything the page loads is counted
    total = len(page.get_data())
    for url in urls:
        response = worker.get(url, buffered=True)
        total += len(response.get_data())
        response.close()
    assert total < FIELD_BUDGET, total


def test_an_interview_made_under_another_account_is_not_credited_to_this_one(
        worker, world, session):
    # A shared phone: worker A2's interview waits on the phone while A (same community) is
    # signed in. The pack names who may send now; the server refuses a record of another.
    pack = worker.get(_url(world, "pack.json")).get_json()
    assert pack["worker"] == world.worker_a.id
    household = world.households_a[0]
    post = _interview(world, household, worker=world.worker_a2.id)
    refused = _send(worker, world, post)
    assert refused.status_code == 409 and refused.get_json()["error"] == "worker"
    assert _send(worker, world, {**post, "worker": True}).status_code == 409  # not an id
    assert session.exec(select(Response).where(
        Response.household_id == household.id)).all() == []
    stored = _send(worker, world, {**post, "worker": world.worker_a.id})
    assert stored.status_code == 201
    assert session.exec(select(Response.entered_by_id).where(
        Response.household_id == household.id)).all() == [world.worker_a.id]
