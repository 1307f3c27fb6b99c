"""The visit log: every visit or call attempt to a sampled household, and its summaries.

Outcomes are the field dispositions of :mod:`survey_app.services.progress` (the one
vocabulary), each with the number a worker writes in an attempt box of the printed visit list
and its AAPOR category (the mapping of :func:`progress.outcome_rates`: I complete, O other
contact, R refusal, NC non-contact, UO unknown eligibility). Recording an attempt also sets
the household's disposition, except ``completed`` (a response sets that, when the form is
entered) and for a household that already has a complete response.

Times are stored in UTC and typed and shown as Beijing time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, func, select

from survey_app.models import (
    Campaign,
    CampaignStatus,
    Disposition,
    Household,
    User,
    Visit,
    as_utc,
    utcnow,
)
from survey_app.services import audit, progress
from survey_app.services.campaigns import field_start
from survey_app.services.score_filters import BEIJING

CHANNELS = ("visit", "phone")


@dataclass(frozen=True)
class VisitOutcome:
    code: str  # the disposition code stored
    number: int  # written in the attempt boxes of the printed list
    aapor: str  # AAPOR category


VISIT_OUTCOMES = tuple(VisitOutcome(code, number, aapor) for number, (code, aapor) in enumerate((
    (Disposition.COMPLETED, "I"), (Disposition.CONTACTED, "O"), (Disposition.REFUSED, "R"),
    (Disposition.NOT_AT_HOME, "NC"), (Disposition.MOVED, "UO"),
    (Disposition.WRONG_ADDRESS, "UO")), start=1))
OUTCOME_CODES = tuple(o.code for o in VISIT_OUTCOMES)
#: A typed time this far ahead of the clock is a typing error, not a visit.
FUTURE_TOLERANCE = timedelta(minutes=10)
#: Nor is one before this (and a year-1 date would not even convert to UTC).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class VisitRefused(ValueError):
    """``reason``: ``channel``, ``outcome``, ``future``, ``before_start`` (before the
    campaign's :func:`~survey_app.services.campaigns.field_start`), ``appointment_before``,
    ``not_in_field``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def beijing(value: datetime | None) -> datetime | None:
    """A stored time as Beijing time (for display and for the day it counts on)."""
    return None if value is None else as_utc(value).astimezone(BEIJING)


def record_visit(*, session: Session, campaign: Campaign, household: Household, worker: User,
                 attempted_at: datetime, channel: str, outcome: str, note: str = "",
                 next_appointment: datetime | None = None) -> Visit:
    """Log one attempt (times aware, any zone) and update the household's disposition."""
    if channel not in CHANNELS:
        raise VisitRefused("channel")
    if outcome not in OUTCOME_CODES:
        raise VisitRefused("outcome")
    if campaign.status != CampaignStatus.OPEN:
        raise VisitRefused("not_in_field")
    if attempted_at > utcnow() + FUTURE_TOLERANCE:
        raise VisitRefused("future")
    # Typed to the minute: the start's minute itself is allowed.
    if attempted_at < max(EARLIEST, field_start(campaign).replace(second=0, microsecond=0)):
        raise VisitRefused("before_start")
    if next_appointment is not None and next_appointment <= attempted_at:
        raise VisitRefused("appointment_before")
    visit = Visit(campaign_id=campaign.id, household_id=household.id, worker_id=worker.id,
                  attempted_at=attempted_at, channel=channel, outcome=outcome,
                  note=note.strip(), next_appointment=next_appointment)
    session.add(visit)
    session.flush()
    attempt = session.exec(select(func.count()).select_from(Visit).where(
        Visit.household_id == household.id)).one()
    audit.record("visit.record", "household", household.id, session=session, actor=worker,
                 campaign_id=campaign.id,
                 details={"visit": visit.id, "attempt": attempt, "channel": channel,
                          "outcome": outcome,
                          "appointment": next_appointment is not None})
    if outcome in progress.RECORDABLE:
        # Refused when the household has a complete response: its outcome stays Completed.
        with suppress(progress.DispositionRefused):
            progress.record_disposition(session=session, household=household,
                                        disposition=outcome, actor=worker)
    return visit


@dataclass(frozen=True)
class VisitRow:
    visit: Visit
    worker: str
    number: int  # the attempt's number for its household, from 1


def visits_of(household: Household, *, session: Session) -> list[VisitRow]:
    """The household's attempts, oldest first, with who made them."""
    rows = session.exec(select(Visit, User.display_name, User.username)
                        .join(User, col(User.id) == Visit.worker_id)
                        .where(Visit.household_id == household.id)
                        .order_by(Visit.attempted_at, Visit.id)).all()
    return [VisitRow(visit, display or username, number)
            for number, (visit, display, username) in enumerate(rows, start=1)]


@dataclass(frozen=True)
class HouseholdVisits:
    """What the visit list shows of a household's attempts so far."""

    attempts: int = 0
    last_outcome: str | None = None
    next_appointment: datetime | None = None


def household_visits(household_ids: list[int], *,
                     session: Session) -> dict[int, HouseholdVisits]:
    """Attempts, last outcome and latest appointment per household (absent: none)."""
    found: dict[int, HouseholdVisits] = {}
    if not household_ids:
        return found
    for visit in session.exec(select(Visit).where(col(Visit.household_id).in_(household_ids))
                              .order_by(Visit.attempted_at, Visit.id)).all():
        before = found.get(visit.household_id, HouseholdVisits())
        found[visit.household_id] = HouseholdVisits(
            attempts=before.attempts + 1, last_outcome=visit.outcome,
            next_appointment=visit.next_appointment or before.next_appointment)
    return found


@dataclass(frozen=True)
class WorkerDay:
    day: date
    worker: str
    visits: int
    calls: int
    households: int

    @property
    def attempts(self) -> int:
        return self.visits + self.calls


@dataclass(frozen=True)
class AttemptSummary:
    """Sampled households by number of attempts (0, 1, 2, 3 or more) and the mean."""

    by_attempts: dict[str, int]
    households: int
    attempts: int

    @property
    def mean(self) -> float | None:
        return self.attempts / self.households if self.households else None


def attempt_summary(households: list[Household], *, session: Session) -> AttemptSummary:
    counts = household_visits([h.id for h in households], session=session)
    buckets = Counter(min(counts.get(h.id, HouseholdVisits()).attempts, 3) for h in households)
    return AttemptSummary(by_attempts={"0": buckets[0], "1": buckets[1], "2": buckets[2],
                                       "3+": buckets[3]},
                          households=len(households),
                          attempts=sum(v.attempts for v in counts.values()))


def attempts_by_worker_day(campaign: Campaign, household_ids: list[int], *,
                           session: Session) -> list[WorkerDay]:
    """Attempts per worker and Beijing day on the given households, newest day first."""
    if not household_ids:
        return []
    rows = session.exec(select(Visit.attempted_at, Visit.channel, Visit.household_id,
                               User.display_name, User.username)
                        .join(User, col(User.id) == Visit.worker_id)
                        .where(Visit.campaign_id == campaign.id,
                               col(Visit.household_id).in_(household_ids))).all()
    cells: dict[tuple[date, str], list] = defaultdict(lambda: [0, 0, set()])
    for attempted_at, channel, household_id, display, username in rows:
        cell = cells[(beijing(attempted_at).date(), display or username)]
        cell[0 if channel == "visit" else 1] += 1
        cell[2].add(household_id)
    return [WorkerDay(day, worker, visits, calls, len(households))
            for (day, worker), (visits, calls, households)
            in sorted(cells.items(), key=lambda item: (-item[0][0].toordinal(), item[0][1]))]
