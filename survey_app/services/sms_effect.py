"""Whether the reminders work: responses per day with the SMS waves marked, and the response
rate by wave (issue 21 item 5), for the field progress page.

A wave starts when its first message was sent (else when it was written) and lasts until
the next wave starts (the last one: until now). The response rate of wave k is the share
of the households it messaged (sent or delivered) whose first complete response came in
wave k's window: the answers that followed the message before the next one went out. Days
and times are Beijing time. Only the households the viewer may see are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from survey_app.models import (
    Campaign,
    MessageStatus,
    OutboxMessage,
    Response,
    ResponseStatus,
    SmsWave,
    as_utc,
)
from survey_app.services.score_filters import BEIJING

_REACHED = (MessageStatus.SENT, MessageStatus.DELIVERED)


@dataclass(frozen=True)
class DayRow:
    day: date
    responses: int
    waves: tuple[str, ...]  # "0" the invitation, "1", "2"... reminders, started that day


@dataclass(frozen=True)
class WaveEffect:
    number: int
    kind: str
    started: datetime  # Beijing time
    messaged: int
    responded: int
    responses_in_window: int  # of every household in view, messaged or not

    @property
    def rate(self) -> float | None:
        return self.responded / self.messaged if self.messaged else None


@dataclass(frozen=True)
class ReminderEffect:
    days: list[DayRow]
    waves: list[WaveEffect]


def _first_responses(campaign: Campaign, ids: Sequence[int], *,
                     session: Session) -> dict[int, datetime]:
    """Each household's first complete response time (UTC)."""
    if not ids:
        return {}
    first = session.exec(select(Response.household_id, func.min(
        func.coalesce(Response.submitted_at, Response.created_at))).where(
        Response.campaign_id == campaign.id, col(Response.household_id).in_(ids),
        Response.status == ResponseStatus.COMPLETE).group_by(Response.household_id)).all()
    return {household: as_utc(_parsed(at)) for household, at in first if at is not None}


def _parsed(value) -> datetime:
    # SQLite returns MIN() over a datetime column as text.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _wave_starts(campaign: Campaign, *, session: Session) -> list[tuple[SmsWave, datetime]]:
    waves = session.exec(select(SmsWave).where(SmsWave.campaign_id == campaign.id)
                         .order_by(SmsWave.number)).all()
    first_sent = dict(session.exec(select(OutboxMessage.wave_id, func.min(OutboxMessage.sent_at))
                                   .where(OutboxMessage.campaign_id == campaign.id)
                                   .group_by(OutboxMessage.wave_id)).all())
    return [(w, as_utc(_parsed(first_sent.get(w.id) or w.created_at))) for w in waves]


def reminder_effect(campaign: Campaign, household_ids: Sequence[int], *,
                    session: Session) -> ReminderEffect:
    """Responses per Beijing day and the response rate by wave of ``household_ids``."""
    answered = _first_responses(campaign, household_ids, session=session)
    starts = _wave_starts(campaign, session=session)
    marks: dict[date, list[str]] = {}
    for wave, started in starts:
        marks.setdefault(started.astimezone(BEIJING).date(), []).append(str(wave.number))
    per_day = Counter(at.astimezone(BEIJING).date() for at in answered.values())
    days = [DayRow(day, per_day.get(day, 0), tuple(marks.get(day, ())))
            for day in sorted(set(per_day) | set(marks))]
    in_view = set(household_ids)
    effects = []
    for place, (wave, started) in enumerate(starts):
        until = starts[place + 1][1] if place + 1 < len(starts) else None
        messaged = set(session.exec(select(OutboxMessage.household_id).where(
            OutboxMessage.wave_id == wave.id,
            col(OutboxMessage.status).in_(_REACHED))).all()) & in_view
        window = {h for h, at in answered.items()
                  if at >= started and (until is None or at < until)}
        effects.append(WaveEffect(wave.number, wave.kind, started.astimezone(BEIJING),
                                  len(messaged), len(window & messaged), len(window)))
    return ReminderEffect(days, effects)
