"""Edits and deletions need a reason, keep old values in the append-only audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from survey_app.models import AuditEvent, Response, ResponseStatus
from survey_app.services import audit, progress
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import answer_values
from tests.entry.conftest import UserClient, build_field, form_data, typed_answers


@pytest.mark.parametrize("statement", ["UPDATE auditevent SET action = 'forged'",
                                       "DELETE FROM auditevent"])
def test_database_refuses_to_change_the_audit_trail(session, world, statement):
    event_id = audit.record("test.event", "test", 1, session=session, actor=world.admin)
    with pytest.raises(Exception, match="append-only"), session.begin_nested():
        session.execute(text(statement))
    session.expire_all()
    assert session.get(AuditEvent, event_id).action == "test.event"


def _single_entry_response(app, session):
    world = build_field(session, double_entry=False, count_a=1)
    household = world.households_a[0]
    version = version_for_group(world.campaign, household.household_group, session=session)
    typed = typed_answers(questionnaire_of(version), seed=4)
    UserClient(app, world.worker_a).post(
        f"/entry/{world.campaign.slug}/households/{household.id}/enter", data=form_data(typed))
    response = session.exec(select(Response).where(Response.household_id == household.id)).one()
    return world, household, typed, response


def _events(session, action):
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_entry_writes_an_audit_event_with_the_worker(app, session):
    world, household, _, response = _single_entry_response(app, session)
    (event,) = _events(session, "paper_entry.create")
    assert event.actor_id == world.worker_a.id
    assert event.details["household_id"] == household.id
    assert event.details["status"] == "verified"


def test_edit_needs_a_reason_and_keeps_old_values(app, session):
    world, household, typed, response = _single_entry_response(app, session)
    admin = UserClient(app, world.admin)
    url = f"/entry/{world.campaign.slug}/responses/{response.id}/edit"
    new_size = str(int(typed["household_size"]) % 6 + 1)
    changed = form_data({**typed, "household_size": new_size})
    assert admin.post(url, data={**changed, "reason": ""}).status_code == 200
    assert _events(session, "response.edit") == []
    assert admin.post(url, data={**changed, "reason": "typo on the paper"}).status_code == 302
    assert answer_values(response, session=session)["household_size"] == int(new_size)
    (event,) = _events(session, "response.edit")
    assert event.actor_id == world.admin.id and event.reason == "typo on the paper"
    assert event.details["changes"] == {
        "household_size": {"old": typed["household_size"], "new": new_size}}
    assert household.household_code not in str(event.details)
    # Workers cannot edit responses at all.
    worker = UserClient(app, world.worker_a)
    assert worker.post(url, data={**changed, "reason": "x"}).status_code == 403


def test_delete_is_soft_needs_a_reason_and_drops_out_of_the_counts(app, session):
    world, household, typed, response = _single_entry_response(app, session)
    admin = UserClient(app, world.admin)
    url = f"/entry/{world.campaign.slug}/responses/{response.id}/delete"
    assert admin.post(url, data={"reason": ""}).status_code == 302
    assert session.get(Response, response.id).status == ResponseStatus.COMPLETE
    assert admin.post(url, data={"reason": "form belongs to another household"}
                      ).status_code == 302
    assert session.get(Response, response.id).status == ResponseStatus.DELETED
    assert session.exec(select(func.count()).select_from(Response).where(
        Response.status == ResponseStatus.COMPLETE)).one() == 0
    _, total = progress.field_progress(world.campaign, world.admin, session=session)
    assert total.completed == 0
    (event,) = _events(session, "response.delete")
    assert event.actor_id == world.admin.id
    assert event.details["old_values"] == typed
    assert event.details["old_status"] == "complete"


def test_audit_trail_keeps_comments_scrubbed_of_personal_data(app, session):
    world, household, typed, response = _single_entry_response(app, session)
    admin = UserClient(app, world.admin)
    personal = "我叫张建国，电话138-1234-5678，住3栋2单元501室，楼道灯坏了"
    edit = f"/entry/{world.campaign.slug}/responses/{response.id}/edit"
    assert admin.post(edit, data={**form_data({**typed, "comments": personal}),
                                  "reason": "comment left off"}).status_code == 302
    assert answer_values(response, session=session)["comments"] == personal
    delete = f"/entry/{world.campaign.slug}/responses/{response.id}/delete"
    assert admin.post(delete, data={"reason": "duplicate form"}).status_code == 302
    (edited,) = _events(session, "response.edit")
    (deleted,) = _events(session, "response.delete")
    scrubbed = "我叫[姓名]，电话[电话]，住[地址]，楼道灯坏了"
    assert edited.details["changes"]["comments"]["new"] == scrubbed
    assert deleted.details["old_values"]["comments"] == scrubbed
    for event in (edited, deleted):
        assert "张建国" not in str(event.details) and "1234" not in str(event.details)


def test_disposition_is_audited_and_refused_for_completed(app, session, world):
    worker = UserClient(app, world.worker_a)
    household = world.households_a[1]
    url = f"/entry/{world.campaign.slug}/households/{household.id}"
    assert worker.post(url, data={"disposition": "refused"}).status_code == 302
    assert household.disposition == "refused"
    (event,) = _events(session, "household.disposition")
    assert (event.actor_id, event.details["old"], event.details["new"]) == \
        (world.worker_a.id, "pending", "refused")
    assert worker.post(url, data={"disposition": "completed"}).status_code == 200
    assert household.disposition == "refused"
