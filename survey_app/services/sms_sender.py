"""The outbox sender: claims pending messages, sends them through the gateway, records the
outcome (``survey-app outbox send``).

Claiming
    A pass claims a few messages at a time in one short write transaction: status
    ``sending``, a random claim id, the claim time, ``attempts + 1``. On PostgreSQL the
    rows are read ``FOR UPDATE SKIP LOCKED``, so several senders take different rows; on
    SQLite the write transaction begins IMMEDIATE and holds the database's write lock while
    it claims. The gateway is called with no transaction open, and the result is written
    only while the claim is still this sender's.

After a crash (the guarantee, stated honestly)
    A message whose sender died after claiming it stays ``sending``; once its claim is
    older than ``SMS_CLAIM_TIMEOUT_SECONDS`` another pass claims it again. A message
    claimed before (``attempts > 1``) may have reached the provider, so the sender first
    asks the provider whether a message with its ``client_ref`` (the provider's OutId)
    was accepted (:meth:`Gateway.find`): if so it is recorded as sent, otherwise sent.
    Hence **none is lost**, and **none is sent twice** as long as the provider's record of
    an accepted message is visible to that query by the time the claim expires (Alibaba
    Cloud's ``QuerySendDetails`` shows a message within seconds; the claim timeout is
    minutes). A message is given up (``failed``, ``attempts``) once claimed more than
    ``SMS_MAX_ATTEMPTS`` times, after a last lookup, so none marked failed was accepted.

Before each send the household is checked again: one that answered or replied TD since
the wave, or whose campaign closed, is ``cancelled``. No phone number and no link is ever
logged; the phone is read from the contact vault only here, just before the call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from survey_app.models import (
    AccessToken,
    Campaign,
    CampaignStatus,
    Household,
    MessageStatus,
    OutboxMessage,
    Response,
    ResponseStatus,
    as_utc,
    utcnow,
)
from survey_app.services import contact_vault, link_copies, phone_numbers, tokens
from survey_app.services.score_filters import BEIJING
from survey_app.services.sms_gateways import Gateway, GatewayError, SmsRequest
from survey_app.services.sms_waves import QuietHours, message_params, wave_kind


@dataclass(frozen=True)
class SenderSettings:
    contact_key: str
    base_url: str
    sign_name: str = ""
    claim_timeout: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    batch: int = 10
    quiet: QuietHours = QuietHours()

    @classmethod
    def from_config(cls, config) -> SenderSettings:
        return cls(contact_key=config["CONTACT_KEY"], base_url=config["PUBLIC_BASE_URL"],
                   sign_name=config["SMS_SIGN_NAME"],
                   claim_timeout=timedelta(seconds=config["SMS_CLAIM_TIMEOUT_SECONDS"]),
                   max_attempts=config["SMS_MAX_ATTEMPTS"],
                   quiet=QuietHours.parse(config["SMS_QUIET_HOURS"]))


@dataclass
class PassResult:
    """What one pass did, by outcome (``sent``, ``found``, ``failed``, ``retry``,
    ``cancelled``, ``lost_claim``); ``quiet`` when quiet hours stopped it."""

    counts: dict[str, int] = field(default_factory=dict)
    quiet: bool = False

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def handled(self) -> int:
        return sum(self.counts.values())


def claim_messages(*, session: Session, now: datetime, settings: SenderSettings,
                   exclude: frozenset[int] = frozenset()) -> tuple[str, list[int]]:
    """Claim up to ``settings.batch`` messages (pending, or sending with an expired claim)
    but ``exclude``; the claim id and the messages' ids."""
    stale = now - settings.claim_timeout
    due = or_(OutboxMessage.status == MessageStatus.PENDING,
              (OutboxMessage.status == MessageStatus.SENDING)
              & (col(OutboxMessage.claimed_at) < stale))
    query = select(OutboxMessage).where(due)
    if exclude:
        query = query.where(col(OutboxMessage.id).not_in(exclude))
    rows = session.exec(query.order_by(OutboxMessage.id).limit(settings.batch)
                        .with_for_update(skip_locked=True)
                        .execution_options(populate_existing=True)).all()
    claim = uuid.uuid4().hex
    for message in rows:
        message.status, message.claim, message.claimed_at = MessageStatus.SENDING, claim, now
        message.attempts += 1
        message.updated_at = now
        session.add(message)
    session.flush()
    return claim, [message.id for message in rows]


def release(message_ids: list[int], claim: str, *, session: Session, now: datetime) -> None:
    """Give back claimed messages not yet sent (quiet hours began): pending again."""
    if message_ids:
        session.execute(update(OutboxMessage).where(
            col(OutboxMessage.id).in_(message_ids), OutboxMessage.claim == claim)
            .values(status=MessageStatus.PENDING, claim=None, updated_at=now,
                    attempts=OutboxMessage.attempts - 1))


def _cancel_reason(message: OutboxMessage, household: Household, campaign: Campaign, *,
                   session: Session) -> str | None:
    if campaign.status != CampaignStatus.OPEN:
        return "campaign_closed"
    if household.sms_opted_out_at is not None:
        return "opted_out"
    answered = session.exec(select(Response.id).where(
        Response.household_id == household.id,
        Response.status == ResponseStatus.COMPLETE)).first()
    return "answered" if answered is not None else None


def _first_mobile(dialable: str) -> str | None:
    try:
        numbers = phone_numbers.parse_phone_numbers(dialable)
    except phone_numbers.PhoneNumberError:
        return None
    return next((n.digits for n in numbers if n.kind == "mobile"), None)


def _live_link(household: Household, base_url: str, *, session: Session) -> str | None:
    copy = session.exec(select(AccessToken.token_copy).where(
        AccessToken.household_id == household.id,
        col(AccessToken.revoked_at).is_(None))).first()
    token = link_copies.unseal(copy)
    return None if token is None else tokens.survey_url(base_url, token)


def prepare(message: OutboxMessage, *, session: Session,
            settings: SenderSettings) -> SmsRequest | str:
    """The request for ``message``, or why it is not sent: ``cancelled:<reason>`` or
    ``failed:<reason>`` (no mobile number, no readable contact or link)."""
    household = session.get(Household, message.household_id, populate_existing=True)
    campaign = session.get(Campaign, message.campaign_id, populate_existing=True)
    reason = _cancel_reason(message, household, campaign, session=session)
    if reason is not None:
        return f"cancelled:{reason}"
    if household.contact_sealed is None:
        return "failed:no_phone"
    try:
        contact = contact_vault.open_sealed(
            household.contact_sealed, campaign_id=campaign.id,
            household_code=household.household_code, secret=settings.contact_key)
    except contact_vault.VaultError:
        return "failed:vault"
    phone = _first_mobile(contact.phone)
    if phone is None:
        return "failed:no_mobile"
    link = _live_link(household, settings.base_url, session=session)
    if link is None:
        return "failed:no_link"
    attempted_on = (as_utc(message.claimed_at).astimezone(BEIJING).date()
                    if message.claimed_at else None)
    return SmsRequest(phone=phone, template=wave_kind(message.wave_number),
                      params=message_params(campaign, link), client_ref=message.client_ref,
                      attempted_on=attempted_on, sign_name=settings.sign_name)


def _finish(message_id: int, owner: str, *, session: Session, now: datetime,
            **values) -> bool:
    """Write ``values`` to the message if its claim is still ``owner``; whether it was.

    A delivery receipt may have arrived while the gateway was answering (the provider
    pushes it within seconds): a message no longer ``sending`` keeps its status and error.
    """
    if "status" in values:
        still_sending = OutboxMessage.status == MessageStatus.SENDING
        for name in ("status", "error"):
            if name in values:
                values[name] = case((still_sending, values[name]),
                                    else_=getattr(OutboxMessage, name))
    done = session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.claim == owner)
        .values(updated_at=now, **values))
    return done.rowcount == 1


Writer = Callable[[], object]  # a context manager factory yielding a session (db.write)


def deliver(message_id: int, *, write: Writer, gateway: Gateway, settings: SenderSettings,
            clock: Callable[[], datetime]) -> str:
    """Send one claimed message; its outcome (see :class:`PassResult`)."""
    with write() as session:
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        claim, attempts = message.claim, message.attempts
        earlier = attempts > 1
        request = prepare(message, session=session, settings=settings)
    if isinstance(request, str):
        outcome, reason = request.split(":", 1)
        with write() as session:
            _finish(message_id, claim, session=session, now=clock(), claim=None,
                    status=outcome, error=reason)
        return outcome
    try:
        if earlier and gateway.find(request):
            with write() as session:
                kept = _finish(message_id, claim, session=session, now=clock(), claim=None,
                               status=MessageStatus.SENT, sent_at=clock(), error="found")
            return "found" if kept else "lost_claim"
        if attempts > settings.max_attempts:  # looked up, not found: given up
            with write() as session:
                _finish(message_id, claim, session=session, now=clock(), claim=None,
                        status=MessageStatus.FAILED, error="attempts")
            return "failed"
        provider_id = gateway.send(request)
    except GatewayError as exc:
        return _failed(message_id, claim, exc, write=write, clock=clock)
    with write() as session:
        kept = _finish(message_id, claim, session=session, now=clock(), claim=None,
                       status=MessageStatus.SENT, sent_at=clock(),
                       provider_message_id=provider_id[:64] or None, error=None)
    return "sent" if kept else "lost_claim"


def _failed(message_id: int, claim: str, exc: GatewayError, *, write: Writer,
            clock: Callable[[], datetime]) -> str:
    # A transient failure may hide an accepted message (a timeout): the next claim asks the
    # provider first (attempts > 1), and past SMS_MAX_ATTEMPTS only asks (deliver).
    retry = exc.transient
    with write() as session:
        _finish(message_id, claim, session=session, now=clock(), claim=None, error=exc.code,
                status=MessageStatus.PENDING if retry else MessageStatus.FAILED)
    return "retry" if retry else "failed"


def send_pass(*, write: Writer, gateway: Gateway, settings: SenderSettings,
              clock: Callable[[], datetime] = utcnow, limit: int | None = None) -> PassResult:
    """Send what is due until nothing is left (or ``limit`` messages were handled); stop
    at quiet hours (``result.quiet``)."""
    result = PassResult()
    retried: set[int] = set()  # tried again by the next pass, not this one
    while limit is None or result.handled < limit:
        if clock() in settings.quiet:
            result.quiet = True
            break
        with write() as session:
            claim, claimed = claim_messages(session=session, now=clock(), settings=settings,
                                            exclude=frozenset(retried))
        if not claimed:
            break
        for place, message_id in enumerate(claimed):
            if clock() in settings.quiet:
                with write() as session:
                    release(claimed[place:], claim, session=session, now=clock())
                result.quiet = True
                return result
            outcome = deliver(message_id, write=write, gateway=gateway, settings=settings,
                              clock=clock)
            result.add(outcome)
            if outcome == "retry":
                retried.add(message_id)
    return result
