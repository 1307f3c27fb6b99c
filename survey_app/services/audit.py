"""Writing to the append-only audit trail."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from survey_app.models import AuditEvent, User


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
) -> AuditEvent:
    """Append one audit event. ``details`` must never hold personal data."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=label or actor_label(actor),
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        campaign_id=campaign_id,
        reason=reason,
        details=details or {},
    )
    session.add(event)
    session.flush()
    return event
