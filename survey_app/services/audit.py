"""Writing to the append-only audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Insert, String, bindparam, cast, insert, select, text
from sqlmodel import Session

from survey_app.models import AuditEvent, User, utcnow

# Built once and executed on the session's connection: an event is written by every
# change, including each resident's submission, and nothing reads it back as an object.
_INSERT_EVENT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)
_INSERT_EVENT_WITHOUT_RETURNING = insert(AuditEvent.__table__)
_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence('auditevent', 'id'))")


@dataclass(frozen=True)
class Entry:
    """An audit event about an object whose id is not known yet (see :func:`insert_for`).

    For events without a user (residents, the system): no actor id, no reason.
    """

    action: str
    obj_type: str
    label: str
    campaign_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The bound values of :func:`insert_for`'s statement."""
        return {"audit_at": utcnow(), "audit_actor_label": self.label,
                "audit_action": self.action, "audit_object_type": self.obj_type,
                "audit_campaign_id": self.campaign_id, "audit_details": self.details}


def insert_for(object_id: ColumnElement) -> Insert:
    """INSERT of an :class:`Entry` (its values bound by ``Entry.params()``) naming the
    object ``object_id`` selects, one event per row it yields.

    For a statement that writes the object and its event in one round trip (a PostgreSQL
    CTE selecting the id an INSERT ... RETURNING produced): no row, no event.
    """
    table = AuditEvent.__table__
    return insert(table).from_select(
        ["at", "actor_label", "action", "object_type", "object_id", "campaign_id", "details"],
        select(bindparam("audit_at", type_=table.c.at.type),
               bindparam("audit_actor_label", type_=table.c.actor_label.type),
               bindparam("audit_action", type_=table.c.action.type),
               bindparam("audit_object_type", type_=table.c.object_type.type),
               cast(object_id, String),
               bindparam("audit_campaign_id", type_=table.c.campaign_id.type),
               bindparam("audit_details", type_=table.c.details.type)))


def record_entry(entry: Entry, obj_id: object, *, session: Session) -> int:
    """Append ``entry`` about the object ``obj_id`` (see :func:`record`)."""
    return record(entry.action, entry.obj_type, obj_id, session=session, label=entry.label,
                  campaign_id=entry.campaign_id, details=entry.details)


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
    values = {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": label or actor_label(actor),
        "action": action,
        "object_type": obj_type,
        "object_id": str(obj_id),
        "campaign_id": campaign_id,
        "reason": reason,
        "details": details or {},
    }
    connection = session.connection()
    if campaign_id is None and connection.dialect.name == "postgresql":
        # Row security shows an event without a campaign in the all-units scope only
        # (migration 0032), and RETURNING must read the row it returns: a county user's
        # event (a logout) takes its id from the sequence first, then is appended.
        values["id"] = connection.execute(_NEXT_ID).scalar_one()
        connection.execute(_INSERT_EVENT_WITHOUT_RETURNING, values)
        return values["id"]
    return connection.execute(_INSERT_EVENT, values).scalar_one()


def record_selected(action: str, obj_type: str, object_id: ColumnElement, where: ColumnElement,
                    *, session: Session, actor: User, campaign_id: int | None = None,
                    reason: str | None = None, details: dict[str, Any] | None = None) -> int:
    """Append one event per row ``where`` selects, naming the object ``object_id`` reads
    (``Response.id`` with ``Response.id.in_(ids)``), in one INSERT ... SELECT; return how many.

    For a bulk decision (thousands of responses excluded at once): the same events as
    :func:`record` called for each, built by the database instead of sent row by row.
    """
    session.flush()
    table = AuditEvent.__table__
    values = {"at": utcnow(), "actor_id": actor.id, "actor_label": actor_label(actor),
              "action": action, "object_type": obj_type, "campaign_id": campaign_id,
              "reason": reason, "details": details or {}}
    columns = [bindparam(f"audit_{key}", value, type_=table.c[key].type)
               for key, value in values.items()]
    statement = insert(table).from_select(
        [*values, "object_id"], select(*columns, cast(object_id, String)).where(where))
    return session.connection().execute(statement).rowcount
