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

from sqlalchemy import and_, bindparam, func, or_, update
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


@dataclass(frozen=True)
class _Receipt:
    out_id: str
    biz_id: str
    values: dict


def _read_receipt(item: Mapping, now: datetime) -> _Receipt:
    success = item.get("success") in (True, "true", "True", 1, "1")
    values = ({"status": MessageStatus.DELIVERED, "delivered_at": now, "error": None}
              if success else
              {"status": MessageStatus.FAILED,
               "error": (_text(item.get("err_code")) or "undelivered")[:64]})
    return _Receipt(_text(item.get("out_id"))[:64], _text(item.get("biz_id"))[:64], values)


def apply_receipts(items: Iterable[Mapping], *, session: Session,
                   now: datetime | None = None) -> CallbackResult:
    """Record delivery receipts; how many matched a message and how many did not.

    One read of every message the batch names (locked on PostgreSQL until the commit, so
    the sender waits), the receipts applied in order in memory (a receipt never undoes a
    delivery; a failure then a delivery of the same message is a delivery), then one
    executemany update of the messages that changed, each still guarded by its status: a
    few statements per post, however many receipts (the cap is the route's).
    """
    now = now or utcnow()
    receipts = [_read_receipt(item, now) for item in items]
    found = _named_messages(receipts, session=session)
    by_ref = {m.client_ref: m for m in found}
    by_biz: dict[str, list[OutboxMessage]] = {}
    for message in found:
        by_biz.setdefault(message.provider_message_id or "", []).append(message)
    state = {m.id: {"status": m.status, "attempts": m.attempts} for m in found}
    changed: dict[int, dict] = {}
    applied = ignored = 0
    for receipt in receipts:
        targets = [by_ref[receipt.out_id]] if receipt.out_id in by_ref else []
        targets += by_biz.get(receipt.biz_id, []) if receipt.biz_id else []
        hits = list(dict.fromkeys(m.id for m in targets if _receivable_state(state[m.id])))
        for mid in hits:
            state[mid]["status"] = receipt.values["status"]
            changed[mid] = {**changed.get(mid, {}), **receipt.values}
        applied += len(hits)
        ignored += not hits
    _write_receipts(changed, now, session=session)
    for message in found:  # the copies read above are stale now
        session.expire(message)
    return CallbackResult(applied, ignored)


def _named_messages(receipts: list[_Receipt], *, session: Session) -> list[OutboxMessage]:
    """The messages the receipts name by ``out_id`` or ``biz_id``, in one locked read."""
    out_ids = {r.out_id for r in receipts if r.out_id}
    biz_ids = {r.biz_id for r in receipts if r.biz_id}
    if not out_ids and not biz_ids:
        return []
    return list(session.exec(select(OutboxMessage).where(or_(
        col(OutboxMessage.client_ref).in_(out_ids),
        col(OutboxMessage.provider_message_id).in_(biz_ids)))
        .order_by(OutboxMessage.id).with_for_update()).all())


def _receivable_state(state: dict) -> bool:
    return state["status"] in _RECEIPT_FROM or (state["status"] == MessageStatus.PENDING
                                                and state["attempts"] > 0)


def _write_receipts(changed: dict[int, dict], now: datetime, *, session: Session) -> None:
    """One executemany update: each row's final status, guarded as a single receipt's."""
    if not changed:
        return
    table = OutboxMessage.__table__
    # Spelled out, not IN (...): an expanding parameter cannot go through executemany.
    receivable = or_(*(table.c.status == status for status in _RECEIPT_FROM),
                     and_(table.c.status == MessageStatus.PENDING, table.c.attempts > 0))
    delivered = bindparam("b_delivered_at", type_=table.c.delivered_at.type)
    statement = (table.update().where(table.c.id == bindparam("b_id"), receivable)
                 .values(status=bindparam("b_status", type_=table.c.status.type),
                         error=bindparam("b_error", type_=table.c.error.type),
                         delivered_at=func.coalesce(delivered, table.c.delivered_at),
                         updated_at=now))
    rows = [{"b_id": mid, "b_status": values["status"], "b_error": values.get("error"),
             "b_delivered_at": values.get("delivered_at")} for mid, values in changed.items()]
    session.connection().execute(statement, rows)


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
