"""What the SMS provider tells us back: delivery receipts and residents' replies.

Alibaba Cloud pushes both as JSON arrays (``SmsReport``: ``out_id``, ``biz_id``,
``success``, ``err_code``, ``report_time``...; ``SmsUp``: ``phone_number``, ``content``...)
to the URLs of ``gateway/routes.py``. A receipt finds its message by ``out_id`` (our
``client_ref``), else by the provider's ``biz_id``; it moves a ``sending``/``sent`` message
to ``delivered`` or ``failed`` (a receipt never undoes a delivery), and so does a ``pending``
message sent before (accepted, but the answer timed out). A reply that says TD
(退订, also T, N, 退订, 取消) opts out every household whose phone (first or further, matched
by keyed hash, never stored in clear) is the sender's: no further wave messages them and their
pending messages are cancelled. The audit event names how many households, not the phone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from survey_app.models import (
    Household,
    HouseholdPhone,
    MessageStatus,
    OutboxMessage,
    utcnow,
)
from survey_app.services import audit, phone_numbers
from survey_app.services.personal_data import keyed_hash

#: Replies that mean "send me no more" (compared after NFKC, upper case, spaces removed).
OPT_OUT_WORDS = frozenset({"TD", "T", "N", "退订", "退", "取消", "TD退订"})
_RECEIPT_FROM = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.FAILED)


@dataclass(frozen=True)
class CallbackResult:
    applied: int
    ignored: int


def _text(value: object) -> str:
    # NUL never belongs in an id or a reply, and PostgreSQL cannot compare text holding it.
    return "" if value is None else str(value).replace("\x00", "")


def apply_receipts(items: Iterable[Mapping], *, session: Session,
                   now: datetime | None = None) -> CallbackResult:
    """Record delivery receipts; how many matched a message and how many did not."""
    now = now or utcnow()
    applied = ignored = 0
    # A pending message tried before was accepted after all (its answer timed out): the
    # receipt is the answer, and the sender does not send it again.
    receivable = or_(col(OutboxMessage.status).in_(_RECEIPT_FROM),
                     and_(OutboxMessage.status == MessageStatus.PENDING,
                          OutboxMessage.attempts > 0))
    for item in items:
        out_id, biz_id = _text(item.get("out_id"))[:64], _text(item.get("biz_id"))[:64]
        match = [OutboxMessage.client_ref == out_id] if out_id else []
        if biz_id:
            match.append(OutboxMessage.provider_message_id == biz_id)
        if not match:
            ignored += 1
            continue
        success = item.get("success") in (True, "true", "True", 1, "1")
        values = ({"status": MessageStatus.DELIVERED, "delivered_at": now, "error": None}
                  if success else
                  {"status": MessageStatus.FAILED,
                   "error": (_text(item.get("err_code")) or "undelivered")[:64]})
        done = session.execute(update(OutboxMessage).where(or_(*match), receivable)
                               .values(updated_at=now, **values))
        applied += done.rowcount
        ignored += done.rowcount == 0
    return CallbackResult(applied, ignored)


def is_opt_out(content: str) -> bool:
    """Does a reply ask to stop the messages?

    >>> is_opt_out(" td "), is_opt_out("ＴＤ"), is_opt_out("退订"), is_opt_out("好的")
    (True, True, True, False)
    """
    folded = "".join(unicodedata.normalize("NFKC", content or "").split()).upper()
    return folded in OPT_OUT_WORDS


def households_of_phone(phone: str, *, pii_key: str, session: Session) -> list[Household]:
    """Households whose roster phone (any of them) is ``phone``, through the keyed hash."""
    digits = phone_numbers.canonical_phone(phone)
    if digits is None:
        return []
    digest = keyed_hash(digits, pii_key)
    further = select(HouseholdPhone.household_id).where(HouseholdPhone.phone_hmac == digest)
    return list(session.exec(select(Household).where(
        or_(Household.phone_hmac == digest, col(Household.id).in_(further)))).all())


def apply_replies(items: Iterable[Mapping], *, pii_key: str, session: Session,
                  now: datetime | None = None) -> CallbackResult:
    """Opt out the households of every TD reply; (households opted out, replies ignored)."""
    now = now or utcnow()
    opted = ignored = 0
    for item in items:
        if not is_opt_out(_text(item.get("content"))):
            ignored += 1
            continue
        households = [h for h in households_of_phone(_text(item.get("phone_number")),
                                                     pii_key=pii_key, session=session)
                      if h.sms_opted_out_at is None]
        for household in households:
            household.sms_opted_out_at = now
            session.add(household)
        if households:
            ids = [h.id for h in households]
            session.execute(update(OutboxMessage).where(
                col(OutboxMessage.household_id).in_(ids),
                OutboxMessage.status == MessageStatus.PENDING)
                .values(status=MessageStatus.CANCELLED, error="opted_out", updated_at=now))
            session.flush()
            for campaign_id in sorted({h.campaign_id for h in households}):
                audit.record("sms.opt_out", "campaign", campaign_id, session=session,
                             label="sms-gateway", campaign_id=campaign_id,
                             details={"households": sum(h.campaign_id == campaign_id
                                                        for h in households)})
        opted += len(households)
    return CallbackResult(opted, ignored)
