"""Editing and deleting stored responses, always with a reason and an audit trail.

Only admins change responses. An edit re-validates the whole answer set against the
questionnaire (skip logic included) and records the old and new value of every changed
question in the audit event. A deletion is soft: the response's status becomes DELETED, so
every count that looks at COMPLETE responses drops it, and the audit event keeps all of its
old answer values. Answer values are option codes, numbers and the free comment; no roster
personal data (names, ID numbers, phones) is ever written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from questionnaires import validate_answers
from survey_app.models import (
    Disposition,
    Household,
    PaperForm,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    Role,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.paper_entry import AnswerErrors, display_value, typed_answers
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.responses import answer_values, replace_answers
from survey_app.services.text_scrub import scrub


class EditRefused(ValueError):
    """``reason``: ``no_reason``, ``not_allowed``, ``deleted`` (already deleted), ``unchanged``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(response: Response, reason: str, actor: User) -> str:
    if actor.role != Role.ADMIN:
        raise EditRefused("not_allowed")
    if response.status == ResponseStatus.DELETED:
        raise EditRefused("deleted")
    reason = reason.strip()
    if not reason:
        raise EditRefused("no_reason")
    return reason


def edit_response(*, session: Session, response: Response, typed: Mapping[str, str],
                  reason: str, actor: User) -> dict[str, dict[str, str]]:
    """Replace a response's answers with typed ones; returns the changes {qid: {old, new}}."""
    reason = _check(response, reason, actor)
    questionnaire = questionnaire_of(
        session.get(QuestionnaireVersion, response.questionnaire_version_id))
    check = validate_answers(questionnaire, typed_answers(questionnaire, typed))
    if not check.ok:
        raise AnswerErrors(check.errors)
    old = answer_values(response, session=session)
    changes = {
        qid: {"old": display_value(old.get(qid)), "new": display_value(check.values.get(qid))}
        for qid in dict.fromkeys([*old, *check.values])
        if display_value(old.get(qid)) != display_value(check.values.get(qid))
    }
    if not changes:
        raise EditRefused("unchanged")
    replace_answers(response, check.values, session=session)
    audited = {qid: {side: scrub(value) for side, value in change.items()}
               for qid, change in changes.items()}
    audit.record("response.edit", "response", response.id, session=session, actor=actor,
                 campaign_id=response.campaign_id, reason=reason,
                 details={"changes": audited, "mode": response.mode})
    return changes


def delete_response(*, session: Session, response: Response, reason: str, actor: User) -> None:
    """Soft-delete: status DELETED, old values kept in the audit event."""
    reason = _check(response, reason, actor)
    old = answer_values(response, session=session)
    old_status = response.status
    response.status = ResponseStatus.DELETED
    response.updated_at = utcnow()
    session.add(response)
    if response.household_id is not None:
        # The household no longer counts as completed unless another response remains.
        household = session.get(Household, response.household_id)
        others = session.exec(select(Response).where(
            Response.household_id == household.id, Response.id != response.id,
            Response.status == ResponseStatus.COMPLETE)).first()
        form = session.exec(select(PaperForm).where(PaperForm.response_id == response.id)).first()
        if others is None and household.disposition == Disposition.COMPLETED:
            household.disposition = Disposition.CONTACTED
            session.add(household)
        details_form = form.id if form is not None else None
    else:
        details_form = None
    session.flush()
    audit.record("response.delete", "response", response.id, session=session, actor=actor,
                 campaign_id=response.campaign_id, reason=reason,
                 details={"old_status": old_status, "mode": response.mode,
                          "paper_form_id": details_form,
                          "old_values": {k: scrub(display_value(v)) for k, v in old.items()}})
