"""Back-check top-ups: replacements for drawn households that cannot be reached.

A drawn case is *unreachable* when its last call says the number is wrong or the household
refused, or after :data:`MIN_ATTEMPTS` calls without an answer (no answer, busy). A top-up
round draws, for each worker, as many replacements as the worker's unreachable cases not
yet replaced, from the worker's completed paper forms not drawn yet (the draw's stratum),
with :func:`analysis.backcheck_topup` seeded by the draw's recorded seed and the round
number, so anyone re-running it on the same forms gets the same households. The round, its
counts and the SHA-256 of its household codes are kept (:class:`BackcheckTopup`) and
audited (``backcheck.topup``). Replaced cases keep their outcome: they still count as drawn
and unreached in the back-check rate.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from sqlmodel import Session, col, func, select

import analysis
from survey_app.models import BackcheckCase, BackcheckDraw, BackcheckTopup, Campaign, User
from survey_app.services import audit
from survey_app.services.backchecks import BackcheckRefused, completed_forms, draw_of

#: Outcomes after which the household will not be reached on another call.
FINAL_UNREACHED = ("wrong_number", "refused")
#: Outcomes worth another call, until this many attempts.
RETRIED = ("no_answer", "busy")
MIN_ATTEMPTS = 3


def unreachable(case: BackcheckCase) -> bool:
    """Whether the case's household counts as not reachable (see the module docstring)."""
    return case.outcome in FINAL_UNREACHED or (case.outcome in RETRIED
                                               and case.attempts >= MIN_ATTEMPTS)


def to_replace(draw: BackcheckDraw, *, session: Session) -> list[BackcheckCase]:
    """Unreachable cases of the draw that no top-up has replaced yet."""
    cases = session.exec(select(BackcheckCase).where(
        BackcheckCase.draw_id == draw.id, col(BackcheckCase.replaced_in_round).is_(None))).all()
    return [c for c in cases if unreachable(c)]


def _strata(draw: BackcheckDraw, forms, replacing: list[BackcheckCase], *,
            session: Session) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Per worker (username): the completed forms not yet drawn, and how many to draw."""
    drawn_households = set(session.exec(select(BackcheckCase.household_id).where(
        BackcheckCase.draw_id == draw.id)).all())
    usernames = dict(session.exec(select(User.id, User.username).where(col(User.id).in_(
        {f.worker_id for f in forms} | {c.worker_id for c in replacing}))).all())
    pool: dict[str, list[str]] = defaultdict(list)
    for form in forms:
        if form.household_id not in drawn_households:
            pool[usernames[form.worker_id]].append(form.household_code)
    needed: dict[str, int] = defaultdict(int)
    for case in replacing:
        needed[usernames[case.worker_id]] += 1
    return pool, needed


def topup_backchecks(campaign: Campaign, *, session: Session,
                     actor: User | None = None) -> BackcheckTopup:
    """Draw the next top-up round of the campaign's back-check (refused: ``no_draw``,
    ``nothing_to_replace``)."""
    draw = draw_of(campaign, session=session)
    if draw is None:
        raise BackcheckRefused("no_draw")
    # Locked: a second top-up at once waits, then finds the cases replaced (PostgreSQL).
    session.refresh(draw, with_for_update=True)
    replacing = to_replace(draw, session=session)
    if not replacing:
        raise BackcheckRefused("nothing_to_replace")
    forms = completed_forms(campaign, session=session)
    pool, needed = _strata(draw, forms, replacing, session=session)
    last = session.exec(select(func.max(BackcheckTopup.round_number)).where(
        BackcheckTopup.draw_id == draw.id)).one()
    round_number = (last or 0) + 1
    chosen = analysis.backcheck_topup(pool, needed, seed=draw.seed, round_number=round_number)
    codes = {code for picked in chosen.values() for code in picked}
    digest = hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()
    for form in sorted(forms, key=lambda f: f.household_code):
        if form.household_code in codes:
            session.add(BackcheckCase(draw_id=draw.id, paper_form_id=form.paper_form_id,
                                      household_id=form.household_id,
                                      worker_id=form.worker_id, topup_round=round_number))
    for case in replacing:
        case.replaced_in_round = round_number
        session.add(case)
    topup = BackcheckTopup(draw_id=draw.id, round_number=round_number,
                           replaced=len(replacing), drawn=len(codes), codes_sha256=digest,
                           drawn_by_id=actor.id if actor else None)
    session.add(topup)
    session.flush()
    audit.record("backcheck.topup", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"round": round_number, "seed": draw.seed,
                          "replaced": len(replacing), "drawn": len(codes),
                          "codes_sha256": digest,
                          "needed": dict(sorted(needed.items())),
                          "per_worker": {w: len(c) for w, c in sorted(chosen.items())},
                          "pool": {w: len(p) for w, p in sorted(pool.items())}})
    return topup
