"""A hash chain over the audit trail, so that a rewritten or removed event is detected.

The triggers on ``auditevent`` stop the application from changing the trail, but a database
superuser can drop them, edit a row and put them back. Each :class:`AuditSeal` therefore
stores ``sha256(previous seal's hash + the event's canonical content)``: changing or
deleting a sealed event, or a seal, breaks every hash from there on, and
:func:`verify_chain` names the first event that no longer matches.

Sealing is separate from writing an event: the resident submit writes its event inside its
one-statement insert and must not wait for a chain-wide lock. :func:`seal_events` appends a
seal for every event that has none yet, in event id order (an event whose transaction
commits after a later id was sealed is sealed in the next round, after it: the chain's
order is the seal order). It runs before every export, report and ``survey-app audit``
command, and :func:`anchor_snapshot` records a scores snapshot as an event and seals it:
the chain head printed in a report then vouches for everything before it.

On PostgreSQL the trail has row-level security (migration 0032): a county account's
transaction sees, and so seals, its own county's events only, chained from the global head
(``audit_chain_head()``, the one value it reads beyond its scope); other counties' events
wait for their own sealer or the next one in the all-units scope (``survey-app audit seal``,
a global account's export). The chain's order is the seal order, so it stays one chain;
``survey-app audit verify`` runs in the all-units scope and checks all of it.

What it cannot do: a superuser who rewrites events *and* recomputes every later seal leaves
a consistent chain. The defence is outside the database: the head hash printed in the
report (or kept by the evaluator from ``survey-app audit verify``) no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from survey_app.models import AuditEvent, AuditSeal, utcnow
from survey_app.services import audit

GENESIS = "0" * 64
BATCH = 5_000
# pg_advisory_xact_lock key: one sealer at a time, released at commit or rollback.
_LOCK_KEY = 0x5EA1_A0D1
_HEAD = text("SELECT audit_chain_head()")


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head: str


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of :func:`verify_chain`."""

    checked: int
    head: str
    unsealed: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def canonical(event: AuditEvent) -> bytes:
    """The bytes a seal covers: every column of the event, in a fixed form."""
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    return json.dumps(
        {"id": event.id, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
         "actor_id": event.actor_id, "actor_label": event.actor_label,
         "action": event.action, "object_type": event.object_type,
         "object_id": event.object_id, "campaign_id": event.campaign_id,
         "reason": event.reason, "details": event.details},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    ).encode("utf-8")


def link(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical(event)).hexdigest()


def _head(session: Session) -> str:
    """The last seal's hash, whoever's event it sealed: on PostgreSQL through
    ``audit_chain_head()`` (migration 0032), which reads in the all-units scope, so a
    county's sealer chains from the other counties' seals it may not see."""
    if session.get_bind().dialect.name == "postgresql":
        return session.connection().execute(_HEAD).scalar_one() or GENESIS
    last = session.exec(select(AuditSeal.chain_hash).order_by(AuditSeal.seq.desc())
                        .limit(1)).first()
    return last or GENESIS


def _unsealed(session: Session, limit: int | None = None):
    stmt = (select(AuditEvent).outerjoin(AuditSeal, AuditSeal.event_id == AuditEvent.id)
            .where(AuditSeal.seq.is_(None)).order_by(AuditEvent.id))
    return session.exec(stmt.limit(limit) if limit else stmt).all()


def seal_events(*, session: Session) -> SealResult:
    """Append a seal for every event without one; flush, never commit.

    On PostgreSQL an advisory lock makes concurrent sealers take turns (each would
    otherwise chain from the same head); SQLite's single writer does that already.
    """
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_LOCK_KEY))
    head, sealed = _head(session), 0
    while events := _unsealed(session, BATCH):
        rows = []
        for event in events:
            head = link(head, event)
            rows.append({"event_id": event.id, "chain_hash": head, "sealed_at": utcnow()})
        session.connection().execute(insert(AuditSeal.__table__), rows)
        sealed += len(rows)
    return SealResult(sealed=sealed, head=head)


def anchor_snapshot(campaign_id: int, snapshot: str, *, session: Session,
                    label: str = "system", purpose: str = "scores") -> SealResult:
    """Record the scores snapshot hash as an audit event and seal the trail up to it."""
    audit.record("scores.snapshot", "campaign", campaign_id, session=session, label=label,
                 campaign_id=campaign_id, details={"snapshot": snapshot, "for": purpose})
    return seal_events(session=session)


def verify_chain(*, session: Session) -> ChainCheck:
    """Recompute every seal in order; the first one that does not match is reported."""
    previous, checked = GENESIS, 0
    last_seq = 0
    while True:
        rows = session.exec(
            select(AuditSeal, AuditEvent)
            .outerjoin(AuditEvent, AuditEvent.id == AuditSeal.event_id)
            .where(AuditSeal.seq > last_seq).order_by(AuditSeal.seq).limit(BATCH)).all()
        if not rows:
            break
        for seal, event in rows:
            problem = _problem(previous, seal, event)
            if problem:
                return ChainCheck(checked=checked, head=previous, unsealed=0,
                                  broken_event_id=seal.event_id, broken_seq=seal.seq,
                                  reason=problem)
            previous, last_seq, checked = seal.chain_hash, seal.seq, checked + 1
    unsealed = session.exec(
        select(func.count()).select_from(AuditEvent)
        .outerjoin(AuditSeal, AuditSeal.event_id == AuditEvent.id)
        .where(AuditSeal.seq.is_(None))).one()
    return ChainCheck(checked=checked, head=previous, unsealed=int(unsealed))


def _problem(previous: str, seal: AuditSeal, event: AuditEvent | None) -> str:
    if event is None:
        return "the sealed event is missing (deleted)"
    if link(previous, event) != seal.chain_hash:
        return "the event or its seal was changed after sealing"
    return ""
