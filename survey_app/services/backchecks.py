"""Back-checks (电话回访复核): a seeded draw of each worker's completed paper forms, the call
to each drawn household, and the discrepancy rate per worker.

Whose form it is
    The worker who typed the form's **first entry** (``PaperEntry`` round 1). Households
    have no assigned worker (a worker is scoped to a community, and a community has several
    workers), and ``Response.entered_by_id`` names whoever completed the form: under double
    entry the second typist or the reconciler, who checked the typing, not the visit. The
    first typist is the worker who brought the paper form in.

Which forms
    Completed paper forms: VERIFIED, with a COMPLETE response (deleted or superseded ones
    are out). The draw is :func:`analysis.backcheck_draw` (per worker, seeded by
    ``"<seed>:<username>"`` over household codes sorted in Python); one draw per campaign,
    kept with its seed and a SHA-256 of the drawn codes, audited. A second draw is refused:
    drawing until a sample looks convenient is what a recorded draw prevents.

The call
    The evaluator sees the household's contact through the contact vault
    (:func:`contact_vault.reveal`, purpose ``backcheck``: evaluators, drawn households only,
    each reveal audited), records the outcome (:data:`OUTCOMES`) and, when reached, the
    answers to the campaign's back-check items (:func:`campaign_items`: default 是否有工作人员
    上门, the overall satisfaction item and household size). A reached call is final;
    the others may be recorded again (another attempt).

Results
    :func:`results` passes the counts per worker to :func:`analysis.backcheck_summary`
    (Wilson interval; flagged when its lower bound exceeds ``campaign.backcheck_threshold``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

# The package loads analysis.backchecks (and with it scipy) on first use of one of its
# names: the evaluate blueprint imports this module, a resident or entry worker must not.
import analysis
from questionnaires import Question, Questionnaire
from survey_app.models import (
    Answer,
    BackcheckCase,
    BackcheckDraw,
    Campaign,
    Community,
    Household,
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.paper_entry import questionnaire_for
from survey_app.services.questionnaire_versions import attached_versions, questionnaire_of

if TYPE_CHECKING:
    from analysis.backchecks import BackcheckSummary

#: The back-check-only question 是否有工作人员上门 (1 是, 2 否, 9 记不清).
VISITED = "visited"
VISITED_CODES = ("1", "2", "9")
DEFAULT_ITEMS = (VISITED, "overall_satisfaction", "household_size")
MAX_ITEMS = 3
ITEM_TYPES = ("rating", "single", "integer")
#: Call outcomes, in the order of the codes typed on the back-check form (1 …).
OUTCOMES = ("reached", "no_answer", "busy", "refused", "wrong_number")
REACHED = "reached"
DEFAULT_SHARE = 0.10
DEFAULT_MINIMUM = 3
MAX_SEED = 2**31 - 1  # a 32-bit integer column on PostgreSQL


class BackcheckRefused(ValueError):
    """``reason``: ``already_drawn``, ``no_forms``, ``share``, ``minimum``, ``seed``,
    ``items``, ``items_fixed``, ``threshold``, ``outcome``, ``already_reached``,
    ``answer`` (``item`` names the item)."""

    def __init__(self, reason: str, item: str | None = None) -> None:
        super().__init__(reason if item is None else f"{reason}: {item}")
        self.reason = reason
        self.item = item


# --- settings -------------------------------------------------------------------------------

def campaign_items(campaign: Campaign) -> list[str]:
    return list(campaign.backcheck_items or DEFAULT_ITEMS)


def item_choices(campaign: Campaign, *, session: Session,
                 locale: str = "zh") -> list[tuple[str, str]]:
    """Items that may be asked again: 是否有工作人员上门 and every rating, choice or number
    question that every questionnaire of the campaign has, labelled with its text in
    ``locale`` (Chinese by default: the export and report)."""
    questionnaires = [questionnaire_of(version) for _group, version in
                      sorted(attached_versions(campaign, session=session).items())]
    if not questionnaires:
        return [(VISITED, "是否有工作人员上门")]
    first, *others = questionnaires
    common = [q for q in first.questions() if q.type in ITEM_TYPES
              and all(q.id in {o.id for o in other.questions()} for other in others)]
    return [(VISITED, "是否有工作人员上门")] + [(q.id, q.text.for_locale(locale)) for q in common]


def save_settings(campaign: Campaign, *, items: list[str], threshold: float,
                  session: Session, actor: User | None = None) -> None:
    """Set the items asked again (fixed once a draw exists) and the flag threshold."""
    allowed = {code for code, _label in item_choices(campaign, session=session)}
    if not 1 <= len(items) <= MAX_ITEMS or len(set(items)) != len(items) \
            or not set(items) <= allowed:
        raise BackcheckRefused("items")
    if not 0 < threshold < 1:
        raise BackcheckRefused("threshold")
    if draw_of(campaign, session=session) is not None and items != campaign_items(campaign):
        raise BackcheckRefused("items_fixed")
    campaign.backcheck_items = list(items)
    campaign.backcheck_threshold = threshold
    session.add(campaign)
    session.flush()
    audit.record("backcheck.settings", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"items": items, "threshold": threshold})


# --- the draw -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompletedForm:
    paper_form_id: int
    household_id: int
    household_code: str
    worker_id: int


def completed_forms(campaign: Campaign, *, session: Session) -> list[CompletedForm]:
    """The campaign's completed paper forms with the worker who typed their first entry."""
    rows = session.exec(
        select(PaperForm.id, Household.id, Household.household_code, PaperEntry.entered_by_id)
        .join(Household, col(Household.id) == PaperForm.household_id)
        .join(Response, col(Response.id) == PaperForm.response_id)
        .join(PaperEntry, col(PaperEntry.paper_form_id) == PaperForm.id)
        .where(PaperForm.campaign_id == campaign.id,
               PaperForm.status == PaperFormStatus.VERIFIED,
               Response.status == ResponseStatus.COMPLETE, PaperEntry.entry_round == 1)).all()
    return [CompletedForm(*row) for row in rows]


def draw_of(campaign: Campaign, *, session: Session) -> BackcheckDraw | None:
    return session.exec(select(BackcheckDraw).where(
        BackcheckDraw.campaign_id == campaign.id)).first()


def draw_backchecks(campaign: Campaign, *, seed: int, share: float = DEFAULT_SHARE,
                    minimum: int = DEFAULT_MINIMUM, session: Session,
                    actor: User | None = None) -> BackcheckDraw:
    """Draw the campaign's back-check sample (see the module docstring)."""
    if not 0 < share <= 1:
        raise BackcheckRefused("share")
    if not 0 <= minimum <= 100:
        raise BackcheckRefused("minimum")
    if not 0 <= seed <= MAX_SEED:
        raise BackcheckRefused("seed")
    if draw_of(campaign, session=session) is not None:
        raise BackcheckRefused("already_drawn")
    forms = completed_forms(campaign, session=session)
    if not forms:
        raise BackcheckRefused("no_forms")
    usernames = dict(session.exec(select(User.id, User.username).where(
        col(User.id).in_({f.worker_id for f in forms}))).all())
    by_worker: dict[str, list[str]] = defaultdict(list)
    for form in forms:
        by_worker[usernames[form.worker_id]].append(form.household_code)
    drawn = analysis.backcheck_draw(by_worker, seed=seed, share=share, minimum=minimum)
    chosen = {code for codes in drawn.values() for code in codes}
    codes_sha256 = hashlib.sha256("\n".join(sorted(chosen)).encode()).hexdigest()
    draw = BackcheckDraw(campaign_id=campaign.id, seed=seed, share=share,
                         min_per_worker=minimum, items=campaign_items(campaign),
                         codes_sha256=codes_sha256, drawn_by_id=actor.id if actor else None)
    session.add(draw)
    session.flush()
    for form in sorted(forms, key=lambda f: f.household_code):
        if form.household_code in chosen:
            session.add(BackcheckCase(draw_id=draw.id, paper_form_id=form.paper_form_id,
                                      household_id=form.household_id,
                                      worker_id=form.worker_id))
    session.flush()
    audit.record("backcheck.draw", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"seed": seed, "share": share, "minimum": minimum,
                          "forms": len(forms), "drawn": len(chosen),
                          "codes_sha256": codes_sha256,
                          "per_worker": {w: len(c) for w, c in sorted(drawn.items())}})
    return draw


# --- one case -------------------------------------------------------------------------------

def case_for(campaign: Campaign, household_id: int, *, session: Session) -> BackcheckCase | None:
    """The back-check case of a household of the campaign's draw, else None."""
    return session.exec(select(BackcheckCase).join(
        BackcheckDraw, col(BackcheckDraw.id) == BackcheckCase.draw_id).where(
        BackcheckDraw.campaign_id == campaign.id,
        BackcheckCase.household_id == household_id)).first()


@dataclass(frozen=True)
class CaseItem:
    """An item as asked on the call: ``question`` None for 是否有工作人员上门."""

    id: str
    kind: str
    question: Question | None


def case_items(campaign: Campaign, draw: BackcheckDraw, household: Household, *,
               session: Session) -> tuple[Questionnaire, list[CaseItem]]:
    _, questionnaire = questionnaire_for(campaign, household, session=session)
    questions = {q.id: q for q in questionnaire.questions()}
    items = []
    for item in draw.items:
        if item == VISITED:
            items.append(CaseItem(VISITED, VISITED, None))
        elif item in questions:
            items.append(CaseItem(item, questions[item].type, questions[item]))
    return questionnaire, items


def _valid_codes(questionnaire: Questionnaire, item: CaseItem) -> set[str] | None:
    """The codes a household may give (None: a whole number in the question's range)."""
    if item.kind == VISITED:
        return set(VISITED_CODES)
    if item.kind == "rating":
        return {o.code for o in questionnaire.scale.options(allow_na=True)}
    if item.kind == "single":
        return {o.code for o in item.question.options}
    return None


def _check_answer(questionnaire: Questionnaire, item: CaseItem, value: str) -> str:
    value = value.strip()
    if not value:
        return ""  # not asked or not answered: not compared
    codes = _valid_codes(questionnaire, item)
    if codes is not None:
        if value not in codes:
            raise BackcheckRefused("answer", item.id)
        return value
    q = item.question
    if not value.isdigit() or (q.min is not None and int(value) < q.min) \
            or (q.max is not None and int(value) > q.max):
        raise BackcheckRefused("answer", item.id)
    return str(int(value))


def _verdict(questionnaire: Questionnaire, item: CaseItem, original: str | None,
             given: str) -> bool | None:
    """:func:`analysis.item_discrepant` with 不清楚 (the scale's own code) on either side
    left uncompared."""
    na = questionnaire.scale.na_code
    return analysis.item_discrepant(item.kind, "" if original == na else original,
                        "" if given == na and item.kind == "rating" else given)


@dataclass(frozen=True)
class ComparedItem:
    item: CaseItem
    original: str  # on the paper form ("" for 是否有工作人员上门, which it does not ask)
    given: str  # on the call ("" not asked or not answered)
    discrepant: bool | None


def comparison(case: BackcheckCase, *, campaign: Campaign,
               session: Session) -> list[ComparedItem]:
    """A reached case's items: the form's answer, the call's, and whether they disagree."""
    draw = session.get(BackcheckDraw, case.draw_id)
    questionnaire, items = case_items(campaign, draw, session.get(Household, case.household_id),
                                      session=session)
    original = original_answers(case, session=session)
    return [ComparedItem(item, original.get(item.id, "") if item.kind != VISITED else "",
                         case.answers.get(item.id, ""),
                         _verdict(questionnaire, item, original.get(item.id),
                                  case.answers.get(item.id, ""))) for item in items]


def original_answers(case: BackcheckCase, *, session: Session) -> dict[str, str]:
    """The form's stored answers (question id → code or number as text)."""
    form = session.get(PaperForm, case.paper_form_id)
    rows = session.exec(select(Answer).where(Answer.response_id == form.response_id)).all()
    return {a.question_id: a.code if a.code is not None else
            ("" if a.number is None else str(a.number)) for a in rows}


def record_call(case: BackcheckCase, *, campaign: Campaign, outcome: str,
                answers: Mapping[str, str], session: Session, actor: User,
                seen_attempts: int | None = None) -> BackcheckCase:
    """Record one call: its outcome and, when reached, the answers given again.

    ``seen_attempts``: the calls recorded when the caller's page was shown; refused
    (``call_changed``) if another was recorded since, so a form sent twice counts one call
    (three unanswered calls make a household unreachable and replaced by a top-up).
    """
    if outcome not in OUTCOMES:
        raise BackcheckRefused("outcome")
    # Locked and read again: two posts of one case count their calls in turn.
    session.refresh(case, with_for_update=True)
    if seen_attempts is not None and case.attempts != seen_attempts:
        raise BackcheckRefused("call_changed")
    if case.outcome == REACHED:
        raise BackcheckRefused("already_reached")
    draw = session.get(BackcheckDraw, case.draw_id)
    household = session.get(Household, case.household_id)
    questionnaire, items = case_items(campaign, draw, household, session=session)
    given = ({item.id: _check_answer(questionnaire, item, answers.get(item.id, ""))
              for item in items} if outcome == REACHED else {})
    original = original_answers(case, session=session)
    compared = {item.id: _verdict(questionnaire, item, original.get(item.id), given[item.id])
                for item in items if outcome == REACHED}
    verdicts = [v for v in compared.values() if v is not None]
    case.outcome = outcome
    case.attempts += 1
    case.answers = given
    case.discrepant = any(verdicts) if verdicts else None
    case.checked_by_id = actor.id
    case.checked_at = utcnow()
    session.add(case)
    session.flush()
    audit.record("backcheck.call", "household", case.household_id, session=session,
                 actor=actor, campaign_id=campaign.id,
                 details={"case": case.id, "attempt": case.attempts, "outcome": outcome,
                          "discrepant": case.discrepant,
                          "disagreeing": sorted(k for k, v in compared.items() if v)})
    return case


# --- lists and results ----------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRow:
    case: BackcheckCase
    household_code: str
    community: str
    worker: str


def case_rows(draw: BackcheckDraw, *, session: Session) -> list[CaseRow]:
    """Every case of the draw, by household code, with its community and worker."""
    rows = session.exec(
        select(BackcheckCase, Household.household_code, Community.name, User.display_name,
               User.username)
        .join(Household, col(Household.id) == BackcheckCase.household_id)
        .join(Community, col(Community.id) == Household.community_id)
        .join(User, col(User.id) == BackcheckCase.worker_id)
        .where(BackcheckCase.draw_id == draw.id)).all()
    out = [CaseRow(case, code, community, display or username)
           for case, code, community, display, username in rows]
    return sorted(out, key=lambda r: r.household_code)


def next_open_case(draw: BackcheckDraw, after_code: str, *,
                   session: Session) -> CaseRow | None:
    """The next case without a final outcome after ``after_code`` (wrapping round)."""
    open_rows = [r for r in case_rows(draw, session=session)
                 if r.case.outcome != REACHED and r.case.replaced_in_round is None]
    later = [r for r in open_rows if r.household_code > after_code]
    return (later or open_rows or [None])[0]


@dataclass(frozen=True)
class BackcheckResults:
    draw: BackcheckDraw
    summary: BackcheckSummary
    names: dict[str, str]  # worker username -> name shown
    outcomes: dict[str, int]  # call outcome -> cases (not yet called: "")


def results(campaign: Campaign, *, session: Session) -> BackcheckResults | None:
    """The per-worker back-check statistics of the campaign's draw (None: no draw)."""
    draw = draw_of(campaign, session=session)
    if draw is None:
        return None
    forms = completed_forms(campaign, session=session)
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(
        {f.worker_id for f in forms}))).all()}
    counts: dict[int, list[int]] = {worker: [0, 0, 0, 0] for worker in users}
    for form in forms:
        counts[form.worker_id][0] += 1
    outcomes: dict[str, int] = defaultdict(int)
    for case in session.exec(select(BackcheckCase).where(
            BackcheckCase.draw_id == draw.id)).all():
        row = counts.setdefault(case.worker_id, [0, 0, 0, 0])
        row[1] += 1
        row[2] += case.discrepant is not None
        row[3] += bool(case.discrepant)
        outcomes[case.outcome or ""] += 1
    missing = set(counts) - set(users)
    users.update({u.id: u for u in session.exec(select(User).where(
        col(User.id).in_(missing))).all()} if missing else {})
    for row in counts.values():  # a form deleted after the draw still counts as completed
        row[0] = max(row[0], row[1])
    ordered = sorted(counts, key=lambda w: users[w].username)
    summary = analysis.backcheck_summary({users[w].username: tuple(counts[w]) for w in ordered},
                                threshold=campaign.backcheck_threshold)
    return BackcheckResults(draw=draw, summary=summary,
                            names={u.username: u.display_name or u.username
                                   for u in users.values()},
                            outcomes=dict(outcomes))
