"""The evaluator's list of flagged responses: filters and one page at a time.

The flags come from :func:`quality_flags.campaign_flags` (a few grouped queries); the
filters that are response columns (community, channel, decided) are one query of ids, and
only the page's rows are read in full. After an open-link flood of 100,000 responses a page
is read in well under the 2 s budget (benchmarks/quality_page.py, docs/BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, select

from survey_app.models import Campaign, Community, Household, Response, ResponseStatus
from survey_app.services.quality_flags import FLAG_KINDS, Flag, campaign_flags

PER_PAGE = 50
#: Up to this many flagged ids go into the filter query as a list; more, and the query reads
#: the ids of every response matching the filters instead (one index range of the campaign).
_ID_LIST_LIMIT = 2_000


class ReviewFilterError(ValueError):
    """A filter value that names nothing; the message says which."""


@dataclass(frozen=True)
class ReviewFilters:
    """Which flagged responses to list or decide about; None: any.

    ``community`` is a community code, ``mode`` a response mode, ``decided`` whether an
    evaluator has already excluded, restored or kept the response.
    """

    kind: str | None = None
    community: str | None = None
    mode: str | None = None
    decided: bool | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in FLAG_KINDS:
            raise ReviewFilterError(f"unknown flag {self.kind!r}; choose one of "
                                    f"{', '.join(FLAG_KINDS)}")

    def as_dict(self) -> dict[str, object]:
        """The filters that are set (audit details, page links)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class FlaggedRow:
    response_id: int
    pseudonym: str
    community: str
    mode: str
    submitted_at: datetime | None
    excluded: bool
    exclusion_reason: str | None
    decided: bool
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class FlaggedPage:
    rows: tuple[FlaggedRow, ...]
    total: int  # flagged responses matching the filters
    page: int
    pages: int
    counts: dict[str, int]  # flagged responses of each kind, whatever the filters
    # What a bulk decision on this listing applies to (:func:`listing_of`): the highest
    # listed id and the SHA-256 of every listed id, on every page.
    through: int = 0
    digest: str = ""


def listing_of(ids: list[int]) -> tuple[int, str]:
    """(highest id, SHA-256 of the ids) of a listing of flagged responses, for a bulk
    decision to act on exactly what was listed (``bulk_exclusion.decide_flagged``).

    >>> listing_of([3, 5])[0], len(listing_of([3, 5])[1]), listing_of([])[0]
    (5, 64, 0)
    """
    return (ids[-1] if ids else 0,
            hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest())


def flagged_ids(campaign: Campaign, filters: ReviewFilters, *, session: Session,
                flags: Mapping[int, tuple[Flag, ...]] | None = None) -> list[int]:
    """Ids of the flagged complete responses matching ``filters``, ascending.

    ``flags``: the campaign's flags when the caller has them (a cached copy); else computed.
    """
    if flags is None:
        flags = campaign_flags(campaign, session=session)
    ids = [response_id for response_id, found in flags.items()
           if filters.kind is None or any(f.kind == filters.kind for f in found)]
    if filters.community is None and filters.mode is None and filters.decided is None:
        return ids
    matching = _matching(campaign, filters, ids, session=session)
    return [response_id for response_id in ids if response_id in matching]


def _matching(campaign: Campaign, filters: ReviewFilters, ids: list[int], *,
              session: Session) -> set[int]:
    """Ids of the complete responses whose columns match ``filters`` (among ``ids`` when the
    list is short)."""
    stmt = select(Response.id).where(Response.campaign_id == campaign.id,
                                     Response.status == ResponseStatus.COMPLETE)
    if len(ids) <= _ID_LIST_LIMIT:
        stmt = stmt.where(Response.id.in_(ids))
    if filters.community is not None:
        stmt = (stmt.join(Household, Household.id == Response.household_id)
                .join(Community, Community.id == Household.community_id)
                .where(Community.code == filters.community))
    if filters.mode is not None:
        stmt = stmt.where(Response.mode == filters.mode)
    if filters.decided is not None:
        stmt = stmt.where(Response.decided_at.is_not(None) if filters.decided
                          else Response.decided_at.is_(None))
    return set(session.exec(stmt).all())


def flagged_page(campaign: Campaign, filters: ReviewFilters, *, session: Session,
                 page: int = 1, per_page: int = PER_PAGE,
                 flags: Mapping[int, tuple[Flag, ...]] | None = None) -> FlaggedPage:
    """Page ``page`` (from 1; clamped to the last) of the flagged responses matching
    ``filters``, in id order (``flags`` as in :func:`flagged_ids`)."""
    if flags is None:
        flags = campaign_flags(campaign, session=session)
    counts = Counter(f.kind for found in flags.values() for f in found)
    ids = flagged_ids(campaign, filters, session=session, flags=flags)
    pages = max(1, -(-len(ids) // per_page))
    page = min(max(page, 1), pages)
    chunk = ids[(page - 1) * per_page:page * per_page]
    rows = session.exec(
        select(Response, Household.pseudonym, Community.name)
        .join(Household, Household.id == Response.household_id, isouter=True)
        .join(Community, Community.id == Household.community_id, isouter=True)
        .where(Response.id.in_(chunk)).order_by(Response.id)).all() if chunk else []
    return FlaggedPage(
        rows=tuple(FlaggedRow(
            response_id=r.id, pseudonym=pseudonym or f"OPEN-{r.id}", community=community or "",
            mode=r.mode, submitted_at=r.submitted_at, excluded=r.excluded,
            exclusion_reason=r.exclusion_reason, decided=r.decided_at is not None,
            flags=flags[r.id]) for r, pseudonym, community in rows),
        total=len(ids), page=page, pages=pages,
        counts={kind: counts.get(kind, 0) for kind in FLAG_KINDS}, **dict(zip(
            ("through", "digest"), listing_of(ids), strict=True)))
