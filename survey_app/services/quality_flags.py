"""Data-quality flags on complete responses, and evaluator exclusions (audited).

A flag is a reason to look, not a verdict: nothing is excluded automatically. An evaluator
excludes a response with a reason; the scores document with ``include_excluded=True`` shows
the numbers without the exclusions, so both can be compared.

Each check is one query that returns only the responses it flags (the database scans and
groups; too_fast and straight_lining share a scan; :func:`_open_link_bursts` gets its rows
sorted by the database and makes one pass),
so a campaign's flags cost O(n log n) however many responses it holds. ``campaign_flags``
gives every flag of a campaign, ``response_flags`` those of one response from the same
checks limited to its fingerprint or household; the quality page's paging and filters are in
``services/quality_review.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import String, and_, case, func, or_, type_coerce
from sqlmodel import Session, select

from questionnaires.elements import RATING_CODES
from survey_app.models import (
    Campaign,
    Response,
    ResponseMode,
    ResponseStatus,
    User,
    as_utc,
    utcnow,
)
from survey_app.services import audit

#: About 15 questions cannot be read and answered in under a minute.
MIN_SECONDS = 60
#: Straight-lining needs at least this many valid (non-NA) rating answers, all identical.
MIN_STRAIGHT_ITEMS = 5
#: Open-link responses from one fingerprint: this many within the window is a burst.
BURST_COUNT = 3
BURST_WINDOW = timedelta(hours=1)

#: The flag kinds, in the order the pages list them (labels: survey_app/labels.py).
FLAG_KINDS = ("too_fast", "straight_lining", "open_link_burst", "web_and_paper")


class ExclusionError(ValueError):
    """The response cannot be excluded or restored; the message says why."""


@dataclass(frozen=True)
class Flag:
    """One flag of one response.

    ``value``: the seconds taken (too_fast), the identical answers (straight_lining), the
    responses in the burst window (open_link_burst), the household's responses
    (web_and_paper). ``code``: the repeated answer code of a straight-liner.
    """

    kind: str
    value: int
    code: str = ""

    @property
    def detail(self) -> str:
        """The flag's evidence in English (command output, logs)."""
        if self.kind == "too_fast":
            return f"{self.value} s < {MIN_SECONDS} s"
        if self.kind == "straight_lining":
            return f"{self.value} x code {self.code}"
        if self.kind == "open_link_burst":
            return f"{self.value} responses within {BURST_WINDOW}"
        return f"{self.value} responses of one household"


Hits = Iterator[tuple[int, Flag]]


def _complete(campaign_id: int):
    return and_(Response.campaign_id == campaign_id,
                Response.status == ResponseStatus.COMPLETE)


def campaign_flags(campaign: Campaign, *, session: Session,
                   min_seconds: int = MIN_SECONDS) -> dict[int, tuple[Flag, ...]]:
    """Every flagged complete response of the campaign (excluded ones too): response id ->
    its flags in :data:`FLAG_KINDS` order, ids ascending."""
    return _collect((
        _own_answers(session, _complete(campaign.id), min_seconds),
        _open_link_bursts(session, _complete(campaign.id)),
        _web_and_paper(session, _complete(campaign.id)),
    ))


def response_flags(response: Response, *, session: Session,
                   min_seconds: int = MIN_SECONDS) -> tuple[Flag, ...]:
    """The flags of one response: the campaign's checks, limited to the response itself,
    the open-link responses of its fingerprint and the responses of its household."""
    if response.status != ResponseStatus.COMPLETE:
        return ()
    own = and_(_complete(response.campaign_id), Response.id == response.id)
    same_device = and_(_complete(response.campaign_id),
                       Response.client_fingerprint == response.client_fingerprint)
    same_household = and_(_complete(response.campaign_id),
                          Response.household_id == response.household_id)
    found = _collect((
        _own_answers(session, own, min_seconds),
        _open_link_bursts(session, same_device) if response.client_fingerprint else (),
        _web_and_paper(session, same_household) if response.household_id else (),
    ))
    return found.get(response.id, ())


def _collect(checks: Iterable[Hits]) -> dict[int, tuple[Flag, ...]]:
    found: dict[int, list[Flag]] = defaultdict(list)
    for hits in checks:
        for response_id, flag in hits:
            found[response_id].append(flag)
    return {k: tuple(found[k]) for k in sorted(found)}


def _rows(session: Session, stmt) -> list:
    # Core execution: the checks read plain columns, and the ORM's per-row work would be
    # most of their time after a flood.
    return session.connection().execute(stmt).all()


def _maybe_too_fast(session: Session, min_seconds: int):
    """A coarse SQL test (to the millisecond, with a second's margin): the exact comparison
    is made in Python on the rows it lets through."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", Response.submitted_at - Response.started_at)
    else:
        seconds = (func.julianday(Response.submitted_at)
                   - func.julianday(Response.started_at)) * 86400
    return and_(Response.started_at.is_not(None), Response.submitted_at.is_not(None),
                seconds < min_seconds + 1)


def _straight(codes):
    # Response.rating_codes: one character per rating item of the response's questionnaire
    # (services.answer_copies). Straight: exactly one distinct scale code present and at
    # least MIN_STRAIGHT_ITEMS scale codes in all (the others are NA or unanswered).
    distinct = sum(case((codes.like(f"%{code}%"), 1), else_=0) for code in RATING_CODES)
    stripped = codes
    for code in RATING_CODES:
        stripped = func.replace(stripped, code, "")
    return and_(distinct == 1, func.length(codes) - func.length(stripped) >= MIN_STRAIGHT_ITEMS)


def _own_answers(session: Session, where, min_seconds: int) -> Hits:
    """too_fast and straight_lining: each response on its own, so one scan for both."""
    fast, straight = _maybe_too_fast(session, min_seconds), _straight(Response.rating_codes)
    rows = _rows(session, select(
        Response.id, _untyped(Response.started_at), _untyped(Response.submitted_at),
        case((fast, True), else_=False), case((straight, True), else_=False),
        Response.rating_codes).where(where, or_(fast, straight)).order_by(Response.id))
    for response_id, started, submitted, maybe_fast, is_straight, rating_codes in rows:
        if maybe_fast:
            seconds = (_as_datetime(submitted) - _as_datetime(started)).total_seconds()
            if seconds < min_seconds:
                yield response_id, Flag("too_fast", int(seconds))
        if is_straight:
            valid = [code for code in rating_codes if code in RATING_CODES]
            yield response_id, Flag("straight_lining", len(valid), valid[0])


def _open_link_bursts(session: Session, where) -> Hits:
    """Open-link responses of one fingerprint, BURST_COUNT or more within BURST_WINDOW."""
    # Every open-link row, sorted by the database: a fingerprint with fewer than BURST_COUNT
    # responses has no window to flag, and leaving it to the pass costs less than a second
    # scan to find the crowded fingerprints first.
    moment = _untyped(func.coalesce(Response.submitted_at, Response.created_at))
    rows = _rows(session, select(Response.client_fingerprint, Response.id, moment).where(
        where, Response.mode == ResponseMode.WEB_OPEN, Response.client_fingerprint.is_not(None))
        .order_by(Response.client_fingerprint, moment, Response.id))
    group: list[tuple[datetime, int]] = []
    for i, (fingerprint, response_id, at) in enumerate(rows):
        group.append((_as_datetime(at), response_id))
        if i + 1 == len(rows) or rows[i + 1][0] != fingerprint:
            yield from _bursts_in(group)
            group = []


def _untyped(column):
    """``column`` read without its type's per-row conversion (which would cost more than
    the rest of a check after a flood): SQLite's stored text (UTC, one fixed format, so it
    sorts in time order) or the PostgreSQL driver's datetime; see :func:`_as_datetime`."""
    return type_coerce(column, String)


def _as_datetime(value: datetime | str) -> datetime:
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _bursts_in(times: list[tuple[datetime, int]]) -> Hits:
    """One pass with two ends over one fingerprint's (time, id) pairs in time order: window
    i is times[i:end], the responses within BURST_WINDOW of the i-th; each is flagged once,
    with the size of the first window big enough that holds it."""
    end = flagged_up_to = 0
    for i, (t, _response_id) in enumerate(times):
        end = max(end, i)
        while end < len(times) and times[end][0] - t <= BURST_WINDOW:
            end += 1
        if end - i < BURST_COUNT:
            continue
        for _at, response_id in times[max(i, flagged_up_to):end]:
            yield response_id, Flag("open_link_burst", end - i)
        flagged_up_to = max(flagged_up_to, end)


def _web_and_paper(session: Session, where) -> Hits:
    paper = case((Response.mode == ResponseMode.PAPER, 1), else_=0)
    mixed = (select(Response.household_id, func.count(Response.id).label("n"))
             .where(where, Response.household_id.is_not(None))
             .group_by(Response.household_id)
             .having(and_(func.max(paper) == 1, func.min(paper) == 0))).subquery()
    rows = _rows(session, select(Response.id, mixed.c.n)
                 .join(mixed, mixed.c.household_id == Response.household_id)
                 .where(where).order_by(Response.id))
    for response_id, n in rows:
        yield response_id, Flag("web_and_paper", int(n))


def set_exclusion(response_id: int, *, campaign: Campaign, excluded: bool, reason: str,
                  actor: User, session: Session) -> Response:
    """Exclude a response from the counted data (or count it again), with an audited reason."""
    response = session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id:
        raise ExclusionError(_("response %(id)s does not belong to this campaign",
                               id=response_id))
    if response.status != ResponseStatus.COMPLETE:
        raise ExclusionError(_("response %(id)s is not complete", id=response_id))
    if response.excluded == excluded:
        raise ExclusionError(_("response %(id)s is already excluded", id=response_id)
                             if excluded else
                             _("response %(id)s is already counted", id=response_id))
    response.excluded = excluded
    response.exclusion_reason = reason.strip() if excluded else None
    response.updated_at = response.decided_at = utcnow()
    session.add(response)
    session.flush()
    audit.record("response.exclude" if excluded else "response.restore", "response", response.id,
                 session=session, actor=actor, campaign_id=campaign.id, reason=reason.strip())
    return response
