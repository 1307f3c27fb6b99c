"""Excluding (or counting again) every response that carries one quality flag, at once.

After an open-link flood an evaluator decides about thousands of flagged responses, not one
at a time. The decision is still theirs and still audited: each response changed gets its
own ``response.exclude``/``response.restore``/``response.keep`` event with the evaluator's
reason, and one ``response.bulk_exclude``/``bulk_restore`` event records the flag, the
filters and the counts. All or nothing: the caller commits once.

Including is a decision too: the responses with the flag that were excluded are counted
again, and those never decided about are marked as kept (``decided_at``), so the quality
page's "undecided" filter shows what is left to review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, select

from survey_app.models import Campaign, Response, Role, User, utcnow
from survey_app.services import audit
from survey_app.services.quality_flags import Flag
from survey_app.services.quality_review import (
    ReviewFilterError,
    ReviewFilters,
    flagged_ids,
    listing_of,
)

DECIDERS = (Role.EVALUATOR, Role.ADMIN)
_CHUNK = 900  # ids per IN list: under SQLite's bound-parameter limit


class BulkExclusionError(ValueError):
    """The bulk decision was refused; the message says why."""


@dataclass(frozen=True)
class BulkExclusion:
    flag: str
    excluded: bool
    changed: tuple[int, ...]  # excluded, or counted again
    already: int  # already in the asked state (and decided)
    kept: tuple[int, ...] = ()  # including: counted all along, now marked as decided


def decide_flagged(campaign: Campaign, flag: str, *, exclude: bool, reason: str, actor: User,
                   session: Session, filters: ReviewFilters | None = None,
                   flags: Mapping[int, tuple[Flag, ...]] | None = None,
                   listed: tuple[int, str] | None = None) -> BulkExclusion:
    """Exclude (``exclude=True``) or count again every complete response flagged ``flag``
    (and matching ``filters``' community, mode and decided, when given).

    ``listed``: the listing the evaluator saw (``quality_review.listing_of``: highest id,
    digest). Responses submitted since (higher ids: a flood goes on) are left for a later
    decision, and a listing that changed otherwise (flagged, or decided by someone else,
    since; a page read from a lagging replica) is refused rather than decided unseen.

    Responses already in the asked state are left alone and counted in ``already``.
    ``flags``: the campaign's flags when the caller has them (a cached copy).
    """
    try:
        filters = replace(filters or ReviewFilters(), kind=flag)
    except ReviewFilterError as exc:
        raise BulkExclusionError(str(exc)) from exc
    if not reason.strip():
        raise BulkExclusionError(_("a reason is required: it is kept in the audit trail"))
    if actor.role not in DECIDERS or not actor.active:
        raise BulkExclusionError(_("user %(name)s is not an active evaluator or administrator",
                                   name=actor.username))
    reason = reason.strip()
    ids = _as_listed(flagged_ids(campaign, filters, session=session, flags=flags), listed)
    states = _states(ids, session=session)
    to_change = [i for i, (excluded, _) in states.items() if excluded != exclude]
    kept = [] if exclude else [i for i, (excluded, decided) in states.items()
                               if not excluded and not decided]
    common = {"session": session, "actor": actor, "campaign_id": campaign.id, "reason": reason}
    _update(to_change, "response.exclude" if exclude else "response.restore", common,
            excluded=exclude, exclusion_reason=reason if exclude else None)
    _update(kept, "response.keep", common)
    audit.record("response.bulk_exclude" if exclude else "response.bulk_restore", "campaign",
                 campaign.id, details={"flag": flag, **replace(filters, kind=None).as_dict(),
                                       "responses": len(to_change), "kept": len(kept)},
                 **common)
    return BulkExclusion(flag=flag, excluded=exclude, changed=tuple(to_change),
                         already=len(states) - len(to_change) - len(kept), kept=tuple(kept))


def _as_listed(ids: list[int], listed: tuple[int, str] | None) -> list[int]:
    """The flagged ids the evaluator was shown (see :func:`decide_flagged`)."""
    if listed is None:
        return ids
    ids = [i for i in ids if i <= listed[0]]
    if listing_of(ids)[1] != listed[1]:
        raise BulkExclusionError(_("the list has changed since it was shown (responses "
                                   "flagged or decided meanwhile); look at it again"))
    return ids


def _states(ids: list[int], *, session: Session) -> dict[int, tuple[bool, bool]]:
    """Response id -> (excluded, decided), in id order."""
    states = {}
    for start in range(0, len(ids), _CHUNK):
        for response_id, excluded, decided_at in session.exec(
                select(Response.id, Response.excluded, Response.decided_at)
                .where(Response.id.in_(ids[start:start + _CHUNK]))).all():
            states[response_id] = (bool(excluded), decided_at is not None)
    return {i: states[i] for i in ids if i in states}


def _update(ids: list[int], action: str, audited: dict, **values) -> None:
    """Set ``values`` (and the decision time) on the responses ``ids``, with one ``action``
    event each."""
    session = audited["session"]
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        chunk = Response.id.in_(ids[start:start + _CHUNK])
        session.execute(update(Response).where(chunk)
                        .values(decided_at=now, updated_at=now, **values))
        audit.record_selected(action, "response", Response.id, chunk, **audited)
