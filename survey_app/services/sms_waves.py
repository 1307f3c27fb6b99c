"""Waves of SMS invitations and reminders: who gets one, the preview, and writing the wave.

Rules (issue 21 item 4)
    A wave goes to the campaign's *sampled* households that have a mobile phone in the
    contact vault (a sealed contact; a roster mobile, known from its mask), a live survey
    link with a stored copy (the message carries it), no complete response (any channel)
    and no TD reply (``household.sms_opted_out_at``). The first wave (number 0) is the
    invitation, the next ones reminders 1, 2, ...; the outbox's unique key (campaign,
    household, wave) allows at most one message per household and wave. Waves are
    created only while the campaign is open. :func:`create_wave` writes the wave and all
    its messages in the caller's transaction, the one that decided to send them; the
    sender delivers them later, never in quiet hours (:class:`QuietHours`, by default
    21:00 to 08:00 Beijing time).

What the preview shows: the number of households, why the others are left out, and the
text of the message for the campaign with a placeholder link; never a phone or a live link.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, func, select

from survey_app.models import (
    AccessToken,
    Campaign,
    CampaignStatus,
    Household,
    HouseholdPhone,
    MessageStatus,
    OutboxMessage,
    SmsWave,
    User,
    as_utc,
    utcnow,
)
from survey_app.services import audit, tokens
from survey_app.services.letters import deadline_text
from survey_app.services.score_filters import BEIJING
from survey_app.services.sms_gateways import render_text

#: No message leaves between these Beijing times by default (``SMS_QUIET_HOURS``).
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
#: Why a sampled household is left out of a wave, in the order they are checked.
EXCLUSIONS = ("answered", "opted_out", "no_mobile", "no_link")
#: A Chinese SMS segment holds 70 characters (67 each when a message is split).
SEGMENT, LONG_SEGMENT = 70, 67
PLACEHOLDER_TOKEN = "••••••••"  # noqa: S105 - shown instead of a live link


@dataclass(frozen=True)
class QuietHours:
    """Beijing times between which no message is sent (``start`` > ``end``: overnight);
    ``start == end``: none."""

    start: time = QUIET_FROM
    end: time = QUIET_UNTIL

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"21:00-08:00"``; empty: no quiet hours.

        >>> QuietHours.parse("21:00-08:00") == QuietHours()
        True
        """
        if not text.strip():
            return cls(time(0), time(0))
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        return cls(start, end)

    def __contains__(self, now: datetime) -> bool:
        local = as_utc(now).astimezone(BEIJING).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, now: datetime) -> datetime:
        """When sending may start again (``now`` itself outside quiet hours), as UTC."""
        if now not in self:
            return as_utc(now)
        local = as_utc(now).astimezone(BEIJING)
        day = local.date() + (timedelta(days=1) if local.time() >= self.end
                              and self.start > self.end else timedelta())
        return datetime.combine(day, self.end, tzinfo=BEIJING).astimezone(as_utc(now).tzinfo)


def in_quiet_hours(now: datetime, quiet: QuietHours = QuietHours()) -> bool:
    """True between 21:00 and 08:00 Beijing time (or the given ``quiet`` hours).

    >>> from datetime import UTC
    >>> in_quiet_hours(datetime(2021, 12, 1, 13, 0, tzinfo=UTC))   # 21:00 in Beijing
    True
    >>> in_quiet_hours(datetime(2021, 12, 1, 0, 0, tzinfo=UTC))    # 08:00 in Beijing
    False
    """
    return now in quiet


def wave_kind(number: int) -> str:
    return "invitation" if number == 0 else "reminder"


def next_wave_number(campaign: Campaign, *, session: Session) -> int:
    last = session.exec(select(func.max(SmsWave.number)).where(
        SmsWave.campaign_id == campaign.id)).one()
    return 0 if last is None else last + 1


def _exclusion(household: Household, answered: set[int], linked: set[int],
               mobiles: set[int]) -> str | None:
    if household.id in answered:
        return "answered"
    if household.sms_opted_out_at is not None:
        return "opted_out"
    if household.contact_sealed is None or household.id not in mobiles:
        return "no_mobile"
    if household.id not in linked:
        return "no_link"
    return None


def eligible_households(campaign: Campaign, *,
                        session: Session) -> tuple[list[Household], Counter]:
    """The sampled households a wave would message now, and the others counted by reason
    (:data:`EXCLUSIONS`)."""
    households = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled)
        .order_by(Household.id)).all()
    answered = tokens.answered_household_ids(campaign, session=session)
    linked = set(session.exec(select(AccessToken.household_id).join(Household).where(
        Household.campaign_id == campaign.id, col(AccessToken.revoked_at).is_(None),
        col(AccessToken.token_copy).is_not(None))).all())
    # A mobile number among the household's phones: the masks keep the first three digits.
    mobiles = {h.id for h in households if h.phone_masked.startswith("1")}
    mobiles |= set(session.exec(select(HouseholdPhone.household_id).join(Household).where(
        Household.campaign_id == campaign.id,
        col(HouseholdPhone.phone_masked).startswith("1"))).all())
    chosen, left_out = [], Counter()
    for household in households:
        reason = _exclusion(household, answered, linked, mobiles)
        if reason is None:
            chosen.append(household)
        else:
            left_out[reason] += 1
    return chosen, left_out


def message_params(campaign: Campaign, link: str) -> dict[str, str]:
    """The template's variables for ``campaign`` (the same for every household but the link)."""
    return {"title": campaign.title, "link": link,
            "deadline": deadline_text(campaign) or "调查结束",
            "issuer": campaign.commissioner or campaign.evaluator_org or ""}


def segments(text: str) -> int:
    """How many SMS segments a Chinese text takes.

    >>> segments("短" * 70), segments("短" * 71)
    (1, 2)
    """
    return 1 if len(text) <= SEGMENT else -(-len(text) // LONG_SEGMENT)


@dataclass(frozen=True)
class WavePreview:
    number: int
    kind: str
    households: int
    left_out: dict[str, int]
    text: str
    segments: int
    campaign_open: bool


def preview_wave(campaign: Campaign, *, session: Session, base_url: str,
                 sign_name: str) -> WavePreview:
    """What the next wave would send: how many, who is left out and why, the text."""
    chosen, left_out = eligible_households(campaign, session=session)
    number = next_wave_number(campaign, session=session)
    kind = wave_kind(number)
    text, real_length = (render_text(kind, message_params(campaign, tokens.survey_url(
        base_url, token)), sign=sign_name) for token in (PLACEHOLDER_TOKEN, "x" * 27))
    return WavePreview(number=number, kind=kind, households=len(chosen),
                       left_out={r: left_out.get(r, 0) for r in EXCLUSIONS}, text=text,
                       segments=segments(real_length),  # a real token has 27 characters
                       campaign_open=campaign.status == CampaignStatus.OPEN)


class WaveRefused(ValueError):
    """``reason``: ``not_open`` (campaign not in the field) or ``nobody`` (no household)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def client_ref(campaign_id: int, household_id: int, number: int) -> str:
    """The message's own id sent to the provider (its OutId): one per household and wave."""
    return f"c{campaign_id}h{household_id}w{number}"


def create_wave(campaign: Campaign, *, session: Session, actor: User | None = None,
                now: datetime | None = None) -> SmsWave:
    """Write the next wave and one pending message per eligible household (flush only: the
    caller's commit sends them all or none). Raises :class:`WaveRefused`."""
    if campaign.status != CampaignStatus.OPEN:
        raise WaveRefused("not_open")
    chosen, left_out = eligible_households(campaign, session=session)
    if not chosen:
        raise WaveRefused("nobody")
    number = next_wave_number(campaign, session=session)
    now = now or utcnow()
    wave = SmsWave(campaign_id=campaign.id, number=number, kind=wave_kind(number),
                   messages=len(chosen), created_at=now,
                   created_by=actor.id if actor else None)
    session.add(wave)
    session.flush()
    session.add_all(OutboxMessage(
        campaign_id=campaign.id, household_id=h.id, wave_id=wave.id, wave_number=number,
        client_ref=client_ref(campaign.id, h.id, number), created_at=now, updated_at=now)
        for h in chosen)
    session.flush()
    audit.record("sms.wave", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"wave": number, "kind": wave.kind, "messages": len(chosen),
                          "left_out": dict(left_out)})
    return wave


@dataclass(frozen=True)
class WaveRow:
    wave: SmsWave
    counts: dict[str, int]

    @property
    def created_local(self) -> datetime:
        return as_utc(self.wave.created_at).astimezone(BEIJING)


def wave_rows(campaign: Campaign, *, session: Session) -> list[WaveRow]:
    """The campaign's waves, first first, with their messages counted by status."""
    counts: dict[int, dict[str, int]] = {}
    for wave_id, status, count in session.exec(
            select(OutboxMessage.wave_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.campaign_id == campaign.id)
            .group_by(OutboxMessage.wave_id, OutboxMessage.status)).all():
        counts.setdefault(wave_id, dict.fromkeys(MessageStatus, 0))[status] = count
    waves = session.exec(select(SmsWave).where(SmsWave.campaign_id == campaign.id)
                         .order_by(SmsWave.number)).all()
    return [WaveRow(w, counts.get(w.id, dict.fromkeys(MessageStatus, 0))) for w in waves]
