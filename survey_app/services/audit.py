"""Writing to the append-only audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from survey_app.models import AuditEvent, User, utcnow

# Built once and executed on the session's connection: an event is written by every
# change, including each resident's submission, and nothing reads it back as an object.
_INSERT_EVENT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def actor_label(user: User | None) -> str:
    return f"user:{user.username}" if user is not None else "system"


def record(
    action: str,
    obj_type: str,
    obj_id: object = "",
    *,
    session: Session,
    actor: User | None = None,
    label: str | None = None,
    campaign_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one audit event in the session's transaction; return its id.

    ``details`` must never hold personal data. Pending ORM changes are flushed first, so
    the event follows the change it records (and ids it names exist).
    """
    session.flush()
    return session.connection().execute(_INSERT_EVENT, {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": label or actor_label(actor),
        "action": action,
        "object_type": obj_type,
        "object_id": str(obj_id),
        "campaign_id": campaign_id,
        "reason": reason,
        "details": details or {},
    }).scalar_one()
