"""Typing in paper questionnaires: printed codes, scoping, blind double entry, reconciliation.

Printed household code
    Each paper form carries ``<household_code>-<check digit>``. The check digit is the Luhn
    (mod 10) digit of the code with letters expanded to two-digit numbers (A=10 … Z=35), the
    scheme of ISIN codes (ISO 6166). It catches every digit typed as another digit and every
    swap of neighbouring digits except 09/90, so a slip of the finger finds no household
    instead of the wrong one.

Scoping
    A worker sees and enters only households of their own community; for everything else the
    lookup functions return ``None`` exactly as for a household that does not exist, so the
    views answer 404 and never reveal that it exists. Admins see every community.

Entering (``enter_paper_form``)
    The typed answers are checked by :func:`questionnaires.validate_answers` (skip logic
    included); any error raises :class:`AnswerErrors` and nothing is written.

    * Single entry (``campaign.double_entry`` false): the entry creates the response at once
      (mode ``paper``, instance id ``paper:<paper form id>``) and the form is VERIFIED.
    * Double entry: the first entry leaves the form AWAITING_SECOND. The second entry is typed
      blind (the entry screen never shows the first). Both are compared field by field: all
      equal → response created, VERIFIED; any difference → CONFLICT, and
      :func:`disagreements` lists only the differing fields for :func:`reconcile`. The same
      worker may type both rounds (small communities have one worker) but such forms are
      counted as ``same_worker`` in :func:`entry_quality`.

Household that already answered on the web (a COMPLETE non-paper response exists)
    * ``keep_first`` and ``keep_web``: the web response came first, so both rules keep it and
      the paper entry is refused with :class:`DuplicateOfWebResponse` (nothing is written). The
      two rules differ only when the web answer arrives *after* a verified paper form, which
      the resident web form decides, not paper entry.
    * ``ask_admin``: the entry is stored and the form is HELD. An admin decides with
      :func:`decide_held`: ``keep_web`` deletes the held paper form (its entries' fingerprints
      stay in the audit trail); ``keep_paper`` marks the web response SUPERSEDED and the paper
      form continues as if it had no web twin (AWAITING_SECOND under double entry, otherwise
      VERIFIED with its response).

Reconciliation reviewers
    An admin, or a worker of the household's community who typed neither entry (the point of
    a second pair of eyes). The reviewer types the value written on the paper for each
    disagreeing field and gives a reason; the merged answers are validated again, stored as
    one response and the form becomes VERIFIED.

Only VERIFIED forms have a Response row, so only they count in statistics and exports.
Every write records an audit event (who, what, which form; answer values only as codes).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from questionnaires import Question, Questionnaire, validate_answers
from survey_app.models import (
    Campaign,
    Disposition,
    Household,
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    QuestionnaireVersion,
    Reconciliation,
    Response,
    ResponseMode,
    ResponseStatus,
    Role,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import AnswerValues, payload_hash, store_response

_CODE_CHARS = re.compile(r"^[0-9A-Z]+$")
DECISIONS = ("keep_web", "keep_paper")


# --- printed codes -------------------------------------------------------------------------

def check_digit(code: str) -> str:
    """Luhn check digit of ``code`` with letters as two-digit numbers (ISIN scheme).

    >>> check_digit("PG00001"), check_digit("US037833100")
    ('1', '5')
    """
    digits = "".join(str(int(char, 36)) for char in code.upper())
    total = 0
    # Double every second digit from the right, counting the check digit as position 1.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


def printed_code(household: Household) -> str:
    return f"{household.household_code}-{check_digit(household.household_code)}"


class PrintedCodeError(ValueError):
    """``reason`` is ``format`` (not code + digit) or ``check_digit`` (digit does not match)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_printed_code(text: str) -> str:
    """The household code from a typed printed code (``PG00001-7``, ``pg 000017``)."""
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) < 2 or not _CODE_CHARS.match(compact) or not compact[-1].isdigit():
        raise PrintedCodeError("format")
    code, digit = compact[:-1], compact[-1]
    if check_digit(code) != digit:
        raise PrintedCodeError("check_digit")
    return code


# --- scoping -------------------------------------------------------------------------------

def may_see_community(user: User, community_id: int) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.WORKER and user.community_id is not None
        and user.community_id == community_id)


def scoped_households(campaign: Campaign, user: User, *, community_id: int | None = None,
                      sampled_only: bool = False):
    """A select of the campaign's households the user may see (admins: optionally one
    community)."""
    query = select(Household).where(Household.campaign_id == campaign.id)
    if user.role != Role.ADMIN:
        community_id = user.community_id if user.role == Role.WORKER else None
        if community_id is None:
            return query.where(col(Household.id).is_(None))  # sees nothing
    if community_id is not None:
        query = query.where(Household.community_id == community_id)
    if sampled_only:
        query = query.where(Household.sampled)
    return query.order_by(Household.household_code)


def household_for(campaign: Campaign, household_id: int, user: User, *,
                  session: Session) -> Household | None:
    """The household if it exists in the campaign and the user may see it, else None."""
    household = session.get(Household, household_id)
    if household is None or household.campaign_id != campaign.id:
        return None
    return household if may_see_community(user, household.community_id) else None


def find_household(campaign: Campaign, typed_code: str, user: User, *,
                   session: Session) -> Household | None:
    """Look up a household by its printed code; raises :class:`PrintedCodeError`."""
    code = parse_printed_code(typed_code)
    household = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.household_code == code)).first()
    if household is None or not may_see_community(user, household.community_id):
        return None
    return household


def paper_form_for(campaign: Campaign, form_id: int, user: User, *,
                   session: Session) -> PaperForm | None:
    form = session.get(PaperForm, form_id)
    if form is None or form.campaign_id != campaign.id:
        return None
    household = session.get(Household, form.household_id)
    return form if may_see_community(user, household.community_id) else None


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
) -> EntryOutcome:
    """Validate and store one typing of a household's paper form (see module docstring)."""
    version, questionnaire = questionnaire_for(campaign, household, session=session)
    check = validate_answers(questionnaire, typed_answers(questionnaire, typed))
    if not check.ok:
        raise AnswerErrors(check.errors)
    values = check.values
    form = session.exec(select(PaperForm).where(PaperForm.campaign_id == campaign.id,
                                                PaperForm.household_id == household.id)).first()
    if form is not None and form.status != PaperFormStatus.AWAITING_SECOND:
        raise EntryRefused({PaperFormStatus.VERIFIED: "already_verified",
                            PaperFormStatus.CONFLICT: "awaiting_reconciliation",
                            PaperFormStatus.HELD: "held"}[form.status])
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
    entry = PaperEntry(paper_form_id=form.id, entry_round=entry_round, entered_by_id=worker.id,
                       answers=dict(values), payload_hash=payload_hash(values))
    session.add(entry)
    session.flush()
    outcome = EntryOutcome(paper_form=form, entry=entry)
    if web is not None:
        form.status = PaperFormStatus.HELD
    elif entry_round == 1 and campaign.double_entry:
        form.status = PaperFormStatus.AWAITING_SECOND
    elif entry_round == 1:
        outcome.response = _verify(form, household, version, values, worker, session)
    else:
        first = _entry(form, 1, session)
        outcome.differences = differing_fields(first.answers, values)
        if outcome.differences:
            form.status = PaperFormStatus.CONFLICT
        else:
            outcome.response = _verify(form, household, version, values, worker, session)
    _touch(form, session)
    audit.record("paper_entry.create", "paper_form", form.id, session=session, actor=worker,
                 campaign_id=campaign.id,
                 details={"household_id": household.id, "round": entry_round,
                          "status": form.status, "payload_hash": entry.payload_hash,
                          "differing_fields": outcome.differences,
                          "web_response_id": web.id if web is not None else None})
    return outcome


def _entry(form: PaperForm, entry_round: int, session: Session) -> PaperEntry:
    return session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id,
                                                 PaperEntry.entry_round == entry_round)).one()


def _touch(form: PaperForm, session: Session) -> None:
    form.updated_at = utcnow()
    session.add(form)
    session.flush()


def _verify(form: PaperForm, household: Household, version: QuestionnaireVersion,
            values: AnswerValues, by: User, session: Session) -> Response:
    campaign = session.get(Campaign, form.campaign_id)
    response, _ = store_response(
        session=session, campaign=campaign, version=version, group=household.household_group,
        mode=ResponseMode.PAPER, instance_id=f"paper:{form.id}", values=values,
        household=household, entered_by=by)
    form.status = PaperFormStatus.VERIFIED
    form.response_id = response.id
    household.disposition = Disposition.COMPLETED
    session.add(household)
    session.flush()
    return response


def _canonical(value: object) -> str:
    return display_value(value)


def differing_fields(first: Mapping[str, object], second: Mapping[str, object]) -> list[str]:
    """Question ids whose values differ (an answer missing on one side counts)."""
    keys = list(dict.fromkeys([*first, *second]))
    return [key for key in keys if _canonical(first.get(key)) != _canonical(second.get(key))]


# --- reconciliation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Disagreement:
    question: Question
    first: str
    second: str


def disagreements(form: PaperForm, *, session: Session) -> list[Disagreement]:
    """Only the fields where the two entries of a CONFLICT form differ, in questionnaire order."""
    first, second = _entry(form, 1, session).answers, _entry(form, 2, session).answers
    household = session.get(Household, form.household_id)
    _, questionnaire = questionnaire_for(session.get(Campaign, form.campaign_id), household,
                                         session=session)
    differing = set(differing_fields(first, second))
    return [Disagreement(q, display_value(first.get(q.id)), display_value(second.get(q.id)))
            for q in questionnaire.questions() if q.id in differing]


def entrants(form: PaperForm, *, session: Session) -> set[int]:
    return set(session.exec(select(PaperEntry.entered_by_id).where(
        PaperEntry.paper_form_id == form.id)).all())


def may_reconcile(form: PaperForm, user: User, *, session: Session) -> bool:
    if user.role == Role.ADMIN:
        return True
    household = session.get(Household, form.household_id)
    return (may_see_community(user, household.community_id)
            and user.id not in entrants(form, session=session))


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
) -> Response:
    """Merge the two entries with the reviewer's values for the disagreeing fields.

    ``chosen`` maps each disagreeing question id to the value typed from the paper (blank =
    unanswered). Raises :class:`AnswerErrors` if the merged form is invalid (e.g. a required
    question left blank), :class:`ReconciliationRefused` otherwise; nothing is written then.
    """
    if form.status != PaperFormStatus.CONFLICT:
        raise ReconciliationRefused("not_in_conflict")
    if not may_reconcile(form, reviewer, session=session):
        raise ReconciliationRefused("entrant")
    reason = reason.strip()
    if not reason:
        raise ReconciliationRefused("no_reason")
    household = session.get(Household, form.household_id)
    campaign = session.get(Campaign, form.campaign_id)
    version, questionnaire = questionnaire_for(campaign, household, session=session)
    rows = disagreements(form, session=session)
    first = _entry(form, 1, session).answers
    # Start from the agreed fields, then add the reviewer's values for the disputed ones.
    disputed = {row.question.id for row in rows}
    merged: dict[str, object] = {k: v for k, v in first.items() if k not in disputed}
    raw = {q.id: typed_to_raw(q, display_value(merged.get(q.id)))
           for q in questionnaire.questions()}
    for row in rows:
        raw[row.question.id] = typed_to_raw(row.question, chosen.get(row.question.id, ""))
    check = validate_answers(questionnaire, raw)
    if not check.ok:
        raise AnswerErrors(check.errors)
    for row in rows:
        session.add(Reconciliation(
            paper_form_id=form.id, question_id=row.question.id, first_value=row.first,
            second_value=row.second, chosen_value=display_value(check.values.get(row.question.id)),
            reason=reason, decided_by_id=reviewer.id))
    session.flush()
    response = _verify(form, household, version, check.values, reviewer, session)
    _touch(form, session)
    audit.record("paper_form.reconcile", "paper_form", form.id, session=session, actor=reviewer,
                 campaign_id=campaign.id, reason=reason,
                 details={"response_id": response.id,
                          "fields": {row.question.id: {
                              "first": row.first, "second": row.second,
                              "chosen": display_value(check.values.get(row.question.id))}
                              for row in rows}})
    return response


# --- held forms (web duplicates under ask_admin) -------------------------------------------

def decide_held(*, session: Session, form: PaperForm, decision: str, reason: str,
                admin: User) -> Response | None:
    """An admin's decision on a HELD form; see the module docstring."""
    if form.status != PaperFormStatus.HELD:
        raise ReconciliationRefused("not_in_conflict")
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
    response = None
    if decision == "keep_web":
        for entry in entries:
            session.delete(entry)
        session.flush()
        session.delete(form)
    else:
        web = web_response_of(household, session=session)
        if web is not None:
            web.status = ResponseStatus.SUPERSEDED
            web.updated_at = utcnow()
            session.add(web)
            details["superseded_response_id"] = web.id
        if campaign.double_entry and len(entries) < 2:
            form.status = PaperFormStatus.AWAITING_SECOND
        elif len(entries) == 2 and differing_fields(entries[0].answers, entries[1].answers):
            form.status = PaperFormStatus.CONFLICT
        else:
            version, _ = questionnaire_for(campaign, household, session=session)
            response = _verify(form, household, version, entries[-1].answers, admin, session)
        _touch(form, session)
    session.flush()
    audit.record("paper_form.decide_held", "paper_form", form.id, session=session, actor=admin,
                 campaign_id=campaign.id, reason=reason, details=details)
    return response


# --- lists ---------------------------------------------------------------------------------

def forms_needing_attention(campaign: Campaign, user: User, *, session: Session) -> list[tuple]:
    """(PaperForm, Household) pairs in CONFLICT or HELD that the user may see."""
    query = (select(PaperForm, Household).join(Household, Household.id == PaperForm.household_id)
             .where(PaperForm.campaign_id == campaign.id,
                    col(PaperForm.status).in_([PaperFormStatus.CONFLICT, PaperFormStatus.HELD]))
             .order_by(Household.household_code))
    if user.role != Role.ADMIN:
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

    A form counts for each worker who typed one of its rounds (once if they typed both).
    Fields compared are the union of the answered questions of both entries.
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
            stats.forms_compared += 1
            stats.forms_agreeing += differing == 0
            stats.fields_compared += compared
            stats.fields_agreeing += compared - differing
            stats.same_worker += len(typists) == 1
    return EntryQuality(workers=sorted(workers.values(), key=lambda s: s.label),
                        batches=sorted(batches.values(), key=lambda s: s.label))
