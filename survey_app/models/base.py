"""Shared model pieces: the constraint naming convention, enums and timestamps."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel

ModelT = TypeVar("ModelT", bound=SQLModel)

# Fixed constraint names make migrations deterministic on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite returns naive ones, stored as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def as_loaded(model: type[ModelT], columns: Mapping[str, Any]) -> ModelT:
    """A detached ``model`` object holding ``columns`` (its primary key included), as if
    loaded from the database and its session closed.

    Built the way the ORM builds a loaded object: no ``__init__``, so no pydantic validation
    and no attribute event per column (a Response(...) call costs ~0.15 ms, 7 % of a web
    submission). For values that are the database's already: a row just inserted, or
    columns a query read. Columns left out are unloaded (reading one raises
    DetachedInstanceError until the object is added to a session).
    """
    instance = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(columns)
    make_transient_to_detached(instance)
    return instance


class HouseholdGroup(enum.StrEnum):
    RELOCATED = "relocated"  # 棚改货币化安置户
    RENTAL_SUBSIDY = "rental_subsidy"  # 租赁补贴户


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResponseMode(enum.StrEnum):
    WEB_TOKEN = "web_token"  # noqa: S105 - a mode name, not a secret
    WEB_OPEN = "web_open"
    PAPER = "paper"
    # Taken face to face on a community worker's phone, offline if need be (issue 22).
    INTERVIEW = "interview"


class ResponseStatus(enum.StrEnum):
    PARTIAL = "partial"  # saved but not submitted; never counted
    COMPLETE = "complete"  # counted
    SUPERSEDED = "superseded"  # replaced under the campaign's duplicate rule
    DELETED = "deleted"  # soft-deleted with a reason in the audit trail


class Role(enum.StrEnum):
    ADMIN = "admin"
    WORKER = "worker"
    EVALUATOR = "evaluator"


class Disposition(enum.StrEnum):
    """Field outcome of a sampled household (AAPOR-style)."""

    PENDING = "pending"
    CONTACTED = "contacted"
    COMPLETED = "completed"
    REFUSED = "refused"
    NOT_AT_HOME = "not_at_home"
    MOVED = "moved"
    WRONG_ADDRESS = "wrong_address"


class PaperFormStatus(enum.StrEnum):
    AWAITING_SECOND = "awaiting_second"  # double entry on, one entry so far
    CONFLICT = "conflict"  # two entries disagree; needs reconciliation
    VERIFIED = "verified"  # entries agree, reconciled, or single entry accepted
    HELD = "held"  # household answered on the web too; an admin decides
