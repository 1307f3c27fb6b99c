"""After two entries: reconciling disagreements, deciding held forms, agreement statistics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from questionnaires import Question, validate_answers
from survey_app.models import (
    Campaign,
    Household,
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    Reconciliation,
    Response,
    ResponseStatus,
    Role,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.paper_entry.entering import (
    AnswerErrors,
    DuplicateOfWebResponse,
    differing_fields,
    display_value,
    entrants,
    entry_of_round,
    lock_household,
    questionnaire_for,
    touch_form,
    typed_to_raw,
    verify_form,
    web_response_of,
)
from survey_app.services.paper_entry.households import may_see_community

DECISIONS = ("keep_web", "keep_paper")


# --- reconciliation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Disagreement:
    question: Question
    first: str
    second: str


def disagreements(form: PaperForm, *, session: Session) -> list[Disagreement]:
    """Only the fields where the two entries of a CONFLICT form differ, in questionnaire order."""
    first = entry_of_round(form, 1, session=session).answers
    second = entry_of_round(form, 2, session=session).answers
    household = session.get(Household, form.household_id)
    _, questionnaire = questionnaire_for(session.get(Campaign, form.campaign_id), household,
                                         session=session)
    differing = set(differing_fields(first, second))
    return [Disagreement(q, display_value(first.get(q.id)), display_value(second.get(q.id)))
            for q in questionnaire.questions() if q.id in differing]


def may_reconcile(form: PaperForm, user: User, *, session: Session) -> bool:
    """Who keyed neither entry: an evaluator, an administrator, or a worker of the form's
    community."""
    if user.id in entrants(form, session=session):
        return False
    if user.role in (Role.ADMIN, Role.EVALUATOR):
        return True
    household = session.get(Household, form.household_id)
    return may_see_community(user, household.community_id)


class ReconciliationRefused(ValueError):
    """``reason``: ``not_in_conflict``, ``entrant`` (typed one of the entries), ``no_reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reconcile(
    *,
    session: Session,
    form: PaperForm,
    chosen: Mapping[str, str],
    reason: str,
    reviewer: User,
) -> Response | None:
    """Merge the two entries with the reviewer's values for the disagreeing fields.

    A household that answered through another channel meanwhile: under the campaign's
    ``ask_admin`` rule the form is HELD for an administrator (None returned); under the
    other rules :class:`DuplicateOfWebResponse` (the earlier answer counts).

    ``chosen`` maps each disagreeing question id to the value typed from the paper (blank =
    unanswered). Raises :class:`AnswerErrors` if the merged form is invalid (e.g. a required
    question left blank), :class:`ReconciliationRefused` otherwise; nothing is written then.
    """
    household = _lock_in_status(form, PaperFormStatus.CONFLICT, session=session)
    if not may_reconcile(form, reviewer, session=session):
        raise ReconciliationRefused("entrant")
    reason = reason.strip()
    if not reason:
        raise ReconciliationRefused("no_reason")
    campaign = session.get(Campaign, form.campaign_id)
    web = web_response_of(household, session=session)
    if web is not None and campaign.duplicate_rule != "ask_admin":
        # Answered on the web (or in an interview) while the entries waited: as for a form
        # keyed after that answer, the campaign's rule keeps it.
        raise DuplicateOfWebResponse(campaign.duplicate_rule, web)
    version, questionnaire = questionnaire_for(campaign, household, session=session)
    rows = disagreements(form, session=session)
    check = _merged(form, questionnaire, {row.question.id: chosen.get(row.question.id, "")
                                          for row in rows}, session=session)
    if not check.ok:
        raise AnswerErrors(check.errors)
    # Kept even when the form is held: an administrator's keep_paper then counts these values
    # instead of sending the form back for a second reconciliation (keep_web discards them).
    for row in rows:
        session.add(Reconciliation(
            paper_form_id=form.id, question_id=row.question.id, first_value=row.first,
            second_value=row.second, chosen_value=display_value(check.values.get(row.question.id)),
            reason=reason, decided_by_id=reviewer.id))
    session.flush()
    fields = {row.question.id: {"first": row.first, "second": row.second,
                                "chosen": display_value(check.values.get(row.question.id))}
              for row in rows}
    if web is not None:  # ask_admin: held for the administrator, like a later paper form
        form.status = PaperFormStatus.HELD
        touch_form(form, session=session)
        audit.record("paper_form.hold", "paper_form", form.id, session=session,
                     actor=reviewer, campaign_id=campaign.id, reason=reason,
                     details={"household_id": household.id, "web_response_id": web.id,
                              "fields": fields})
        return None
    response = verify_form(form, household, version, check.values, reviewer, session=session)
    touch_form(form, session=session)
    audit.record("paper_form.reconcile", "paper_form", form.id, session=session, actor=reviewer,
                 campaign_id=campaign.id, reason=reason,
                 details={"response_id": response.id, "fields": fields})
    return response


def _merged(form: PaperForm, questionnaire, chosen: Mapping[str, str], *,
            session: Session):
    """The first entry's agreed fields with ``chosen`` (question id → typed value) for the
    disputed ones, validated again (``validate_answers``' result)."""
    first = entry_of_round(form, 1, session=session).answers
    raw = {q.id: typed_to_raw(q, chosen[q.id] if q.id in chosen
                              else display_value(first.get(q.id)))
           for q in questionnaire.questions()}
    return validate_answers(questionnaire, raw)


def _lock_in_status(form: PaperForm, status: PaperFormStatus, *,
                    session: Session) -> Household:
    """Lock the form's household's row, then read the form again (not as the page read it:
    another reviewer's or administrator's decision committed before this lock was ours has
    verified, held or deleted it); ReconciliationRefused unless it still has ``status``."""
    household = session.get(Household, form.household_id)
    lock_household(household, session=session)
    now = session.exec(select(PaperForm.status).where(PaperForm.id == form.id)).first()
    if now != status:
        raise ReconciliationRefused("not_in_conflict")
    session.refresh(form)
    return household


# --- held forms (web duplicates under ask_admin) -------------------------------------------

def decide_held(*, session: Session, form: PaperForm, decision: str, reason: str,
                admin: User) -> Response | None:
    """An admin's decision on a HELD form; see the module docstring."""
    _lock_in_status(form, PaperFormStatus.HELD, session=session)
    if admin.role != Role.ADMIN:
        raise ReconciliationRefused("entrant")
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    reason = reason.strip()
    if not reason:
        raise ReconciliationRefused("no_reason")
    household = session.get(Household, form.household_id)
    campaign = session.get(Campaign, form.campaign_id)
    entries = session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id)
                           .order_by(PaperEntry.entry_round)).all()
    details: dict = {"household_id": household.id, "decision": decision,
                     "entries": [{"round": e.entry_round, "entered_by_id": e.entered_by_id,
                                  "payload_hash": e.payload_hash} for e in entries]}
    reconciled = session.exec(select(Reconciliation).where(
        Reconciliation.paper_form_id == form.id)).all()
    response = None
    if decision == "keep_web":
        for row in [*reconciled, *entries]:
            session.delete(row)
        session.flush()
        session.delete(form)
    else:
        web = web_response_of(household, session=session)
        if web is not None:
            web.status = ResponseStatus.SUPERSEDED
            web.updated_at = utcnow()
            session.add(web)
            details["superseded_response_id"] = web.id
        if reconciled:
            response = _verify_reconciled(form, household, reconciled, details, session=session)
        elif campaign.double_entry and len(entries) < 2:
            form.status = PaperFormStatus.AWAITING_SECOND
        elif len(entries) == 2 and differing_fields(entries[0].answers, entries[1].answers):
            form.status = PaperFormStatus.CONFLICT
        else:
            version, _ = questionnaire_for(campaign, household, session=session)
            response = verify_form(form, household, version, entries[-1].answers, admin,
                                   session=session)
        if response is not None:
            details["response_id"] = response.id
        touch_form(form, session=session)
    session.flush()
    audit.record("paper_form.decide_held", "paper_form", form.id, session=session, actor=admin,
                 campaign_id=campaign.id, reason=reason, details=details)
    return response


@dataclass(frozen=True)
class HeldReconciliation:
    """A held form's kept reconciliation, as the decision page shows it."""

    reviewer: str
    decided_at: datetime
    fields: int


def held_reconciliation(form: PaperForm, *, session: Session) -> HeldReconciliation | None:
    """The reconciliation kept on a HELD form (reconciled, then held because the household
    answered on the web), or None: the administrator deciding sees whose answers
    ``keep_paper`` would count."""
    rows = session.exec(select(Reconciliation).where(
        Reconciliation.paper_form_id == form.id).order_by(Reconciliation.id)).all()
    if not rows:
        return None
    reviewer = session.get(User, rows[0].decided_by_id)
    return HeldReconciliation(reviewer.username if reviewer else "?",
                              max(r.decided_at for r in rows), len(rows))


def _verify_reconciled(form: PaperForm, household: Household,
                       reconciled: list[Reconciliation], details: dict, *,
                       session: Session) -> Response | None:
    """keep_paper on a form held by its reconciliation: the reviewer's merged answers count,
    as the reconciliation would have made them count without the web answer; the response
    is the reviewer's (``entered_by``), the audit event names them. Answers that no longer
    validate (the group's questionnaire changed meanwhile) send the form back to CONFLICT
    without them, as before: None then."""
    campaign = session.get(Campaign, form.campaign_id)
    version, questionnaire = questionnaire_for(campaign, household, session=session)
    check = _merged(form, questionnaire, {row.question_id: row.chosen_value or ""
                                          for row in reconciled}, session=session)
    details.update({
        "reconciled_by_id": reconciled[0].decided_by_id,
        "reconciled_at": reconciled[0].decided_at.isoformat(),
        "reconciled_fields": {row.question_id: {"first": row.first_value,
                                                "second": row.second_value,
                                                "chosen": row.chosen_value}
                              for row in reconciled}})
    if not check.ok:
        details["reconciliation_invalid"] = dict(check.errors)
        for row in reconciled:
            session.delete(row)
        session.flush()
        form.status = PaperFormStatus.CONFLICT
        return None
    reviewer = session.get(User, reconciled[0].decided_by_id)
    return verify_form(form, household, version, check.values, reviewer, session=session)


# --- lists ---------------------------------------------------------------------------------

def forms_needing_attention(campaign: Campaign, user: User, *, session: Session) -> list[tuple]:
    """(PaperForm, Household) pairs in CONFLICT or HELD that the user may see."""
    query = (select(PaperForm, Household).join(Household, Household.id == PaperForm.household_id)
             .where(PaperForm.campaign_id == campaign.id,
                    col(PaperForm.status).in_([PaperFormStatus.CONFLICT, PaperFormStatus.HELD]))
             .order_by(Household.household_code))
    if user.role not in (Role.ADMIN, Role.EVALUATOR):
        query = query.where(Household.community_id == (user.community_id or -1))
    return list(session.exec(query).all())


# --- entry quality -------------------------------------------------------------------------

@dataclass
class AgreementStats:
    """Agreement of double entry for one worker or batch."""

    label: str
    forms_compared: int = 0
    forms_agreeing: int = 0
    fields_compared: int = 0
    fields_agreeing: int = 0
    same_worker: int = 0

    @property
    def field_agreement(self) -> float | None:
        return self.fields_agreeing / self.fields_compared if self.fields_compared else None

    @property
    def form_agreement(self) -> float | None:
        return self.forms_agreeing / self.forms_compared if self.forms_compared else None


@dataclass
class EntryQuality:
    workers: list[AgreementStats]
    batches: list[AgreementStats]


def entry_quality(campaign: Campaign, *, session: Session) -> EntryQuality:
    """Field and form agreement of every form typed twice, per worker and per batch.

    A form counts for each worker who typed one of its rounds. Fields compared are the
    union of the answered questions of both entries. A form whose two entries were typed by
    one person (before that was refused) is no comparison: it is counted in ``same_worker``
    only, never in the agreement.
    """
    rows = session.exec(select(PaperEntry, PaperForm).join(
        PaperForm, PaperForm.id == PaperEntry.paper_form_id)
        .where(PaperForm.campaign_id == campaign.id)).all()
    by_form: dict[int, dict[int, PaperEntry]] = defaultdict(dict)
    forms: dict[int, PaperForm] = {}
    for entry, form in rows:
        by_form[form.id][entry.entry_round] = entry
        forms[form.id] = form
    workers: dict[int, AgreementStats] = {}
    batches: dict[str, AgreementStats] = {}
    names = {u.id: u.username for u in session.exec(select(User)).all()}
    for form_id, entries in by_form.items():
        if 1 not in entries or 2 not in entries:
            continue
        first, second = entries[1].answers, entries[2].answers
        compared = len(set(first) | set(second))
        differing = len(differing_fields(first, second))
        typists = {entries[1].entered_by_id, entries[2].entered_by_id}
        targets = [workers.setdefault(w, AgreementStats(names.get(w, str(w)))) for w in typists]
        batch = forms[form_id].batch or "—"
        targets.append(batches.setdefault(batch, AgreementStats(batch)))
        for stats in targets:
            if len(typists) == 1:
                stats.same_worker += 1
                continue
            stats.forms_compared += 1
            stats.forms_agreeing += differing == 0
            stats.fields_compared += compared
            stats.fields_agreeing += compared - differing
    return EntryQuality(workers=sorted(workers.values(), key=lambda s: s.label),
                        batches=sorted(batches.values(), key=lambda s: s.label))
