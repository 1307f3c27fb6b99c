"""Typing a paper form: typed answers, one entry round, and the comparison of two rounds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from questionnaires import Question, Questionnaire, validate_answers
from survey_app.models import (
    Campaign,
    Disposition,
    Household,
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    QuestionnaireVersion,
    Response,
    ResponseMode,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import AnswerValues, payload_hash, store_response
from survey_app.services.survey_submit import lock_household, mark_answered

# --- typed answers -------------------------------------------------------------------------

def typed_to_raw(question: Question, typed: str) -> str | list[str]:
    """Turn what a worker typed into the raw answer ``validate_answers`` expects.

    Multiple choice: codes separated by spaces, commas or dots; when every option code is a
    single digit the codes may also be typed run together (``135``).
    """
    typed = typed or ""
    if question.type != "multiple":
        return typed
    parts = [part for part in re.split(r"[\s,，.、;；]+", typed.strip()) if part]
    if len(parts) == 1 and all(len(option.code) == 1 for option in question.options):
        parts = list(parts[0])
    return parts


def typed_answers(questionnaire: Questionnaire, typed: Mapping[str, str]) -> dict:
    return {q.id: typed_to_raw(q, typed.get(q.id, "")) for q in questionnaire.questions()}


def display_value(value: object) -> str:
    """How a stored value is shown and typed back: lists as ``1 3``, everything as text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


# --- entering ------------------------------------------------------------------------------

class AnswerErrors(ValueError):
    """Typed answers failed validation; ``errors`` maps question id → error code."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class EntryRefused(ValueError):
    """The paper form cannot be entered now; ``reason`` is a code the view translates:
    ``already_verified``, ``awaiting_reconciliation``, ``held``, ``no_questionnaire``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DuplicateOfWebResponse(EntryRefused):
    """The household answered on the web and the campaign's rule keeps that answer."""

    def __init__(self, rule: str, response: Response) -> None:
        super().__init__("web_duplicate")
        self.rule = rule
        self.response = response


@dataclass
class EntryOutcome:
    paper_form: PaperForm
    entry: PaperEntry
    response: Response | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.paper_form.status


def questionnaire_for(campaign: Campaign, household: Household, *,
                      session: Session) -> tuple[QuestionnaireVersion, Questionnaire]:
    version = version_for_group(campaign, household.household_group, session=session)
    if version is None:
        raise EntryRefused("no_questionnaire")
    return version, questionnaire_of(version)


def web_response_of(household: Household, *, session: Session) -> Response | None:
    return session.exec(select(Response).where(
        Response.household_id == household.id, Response.status == ResponseStatus.COMPLETE,
        Response.mode != ResponseMode.PAPER)).first()


def entry_round_for(campaign: Campaign, household: Household, *, session: Session) -> int:
    """Which round the next entry of this household's form would be (for the screen title)."""
    form = session.exec(select(PaperForm).where(PaperForm.campaign_id == campaign.id,
                                                PaperForm.household_id == household.id)).first()
    return 2 if form is not None and form.status == PaperFormStatus.AWAITING_SECOND else 1


def enter_paper_form(
    *,
    session: Session,
    campaign: Campaign,
    household: Household,
    typed: Mapping[str, str],
    worker: User,
    batch: str = "",
    started_at: datetime | None = None,
) -> EntryOutcome:
    """Validate and store one typing of a household's paper form (see module docstring).

    ``started_at``: when the entry page was shown (keying paradata); kept on the entry
    unless it lies after the save (clocks of several servers).
    """
    version, questionnaire = questionnaire_for(campaign, household, session=session)
    check = validate_answers(questionnaire, typed_answers(questionnaire, typed))
    if not check.ok:
        raise AnswerErrors(check.errors)
    values = check.values
    lock_household(household, session=session)  # then its form and web answer are read
    form = _paper_form_of(campaign, household, session=session)
    _refuse_entry(form, worker, session=session)
    web = web_response_of(household, session=session)
    if web is not None and campaign.duplicate_rule != "ask_admin":
        raise DuplicateOfWebResponse(campaign.duplicate_rule, web)

    if form is None:
        form = PaperForm(campaign_id=campaign.id, household_id=household.id,
                         status=PaperFormStatus.AWAITING_SECOND, batch=batch.strip()[:32])
        session.add(form)
        session.flush()
        entry_round = 1
    else:
        entry_round = 2
    saved_at = utcnow()
    entry = PaperEntry(paper_form_id=form.id, entry_round=entry_round, entered_by_id=worker.id,
                       answers=dict(values), payload_hash=payload_hash(values),
                       started_at=started_at if started_at and started_at <= saved_at else None,
                       created_at=saved_at)
    session.add(entry)
    session.flush()
    outcome = EntryOutcome(paper_form=form, entry=entry)
    if web is not None:
        form.status = PaperFormStatus.HELD
    elif entry_round == 1 and campaign.double_entry:
        form.status = PaperFormStatus.AWAITING_SECOND
    elif entry_round == 1:
        outcome.response = verify_form(form, household, version, values, worker, session=session)
    else:
        first = entry_of_round(form, 1, session=session)
        outcome.differences = differing_fields(first.answers, values)
        if outcome.differences:
            form.status = PaperFormStatus.CONFLICT
        else:
            outcome.response = verify_form(form, household, version, values, worker,
                                           session=session)
    touch_form(form, session=session)
    audit.record("paper_entry.create", "paper_form", form.id, session=session, actor=worker,
                 campaign_id=campaign.id,
                 details={"household_id": household.id, "round": entry_round,
                          "status": form.status, "payload_hash": entry.payload_hash,
                          "differing_fields": outcome.differences,
                          "web_response_id": web.id if web is not None else None})
    return outcome


def _paper_form_of(campaign: Campaign, household: Household, *,
                   session: Session) -> PaperForm | None:
    return session.exec(select(PaperForm).where(PaperForm.campaign_id == campaign.id,
                                                PaperForm.household_id == household.id)).first()



def _refuse_entry(form: PaperForm | None, worker: User, *, session: Session) -> None:
    """EntryRefused if the form takes no further entry, or none from ``worker``."""
    if form is None:
        return
    if form.status != PaperFormStatus.AWAITING_SECOND:
        raise EntryRefused({PaperFormStatus.VERIFIED: "already_verified",
                            PaperFormStatus.CONFLICT: "awaiting_reconciliation",
                            PaperFormStatus.HELD: "held"}[form.status])
    if worker.id in entrants(form, session=session):
        # Blind double entry means two people: one person typing twice repeats their own
        # misreadings, and the comparison would vouch for them.
        raise EntryRefused("same_typist")


def entrants(form: PaperForm, *, session: Session) -> set[int]:
    """Ids of the users who typed an entry of ``form``."""
    return set(session.exec(select(PaperEntry.entered_by_id).where(
        PaperEntry.paper_form_id == form.id)).all())


def entry_of_round(form: PaperForm, entry_round: int, *, session: Session) -> PaperEntry:
    """The form's entry of round 1 or 2 (it must exist)."""
    return session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id,
                                                 PaperEntry.entry_round == entry_round)).one()


def touch_form(form: PaperForm, *, session: Session) -> None:
    form.updated_at = utcnow()
    session.add(form)
    session.flush()


def verify_form(form: PaperForm, household: Household, version: QuestionnaireVersion,
                values: AnswerValues, by: User, *, session: Session) -> Response:
    """Store the form's agreed answers as its paper Response; the form becomes VERIFIED."""
    campaign = session.get(Campaign, form.campaign_id)
    response, _ = store_response(
        session=session, campaign=campaign, version=version, group=household.household_group,
        mode=ResponseMode.PAPER, instance_id=f"paper:{form.id}", values=values,
        household=household, entered_by=by)
    form.status = PaperFormStatus.VERIFIED
    form.response_id = response.id
    if campaign.duplicate_rule == "keep_web":
        # The resident's own web answer is preferred: the letter's link stays open, and an
        # answer through it supersedes this paper response (survey_submit).
        household.disposition = Disposition.COMPLETED
        session.add(household)
        session.flush()
    else:
        # The household has its counted response: its letter's link now opens the "already
        # answered" page instead of storing a second one.
        mark_answered(household, None, session=session)
    return response


def _canonical(value: object) -> str:
    return display_value(value)


def differing_fields(first: Mapping[str, object], second: Mapping[str, object]) -> list[str]:
    """Question ids whose values differ (an answer missing on one side counts)."""
    keys = list(dict.fromkeys([*first, *second]))
    return [key for key in keys if _canonical(first.get(key)) != _canonical(second.get(key))]
