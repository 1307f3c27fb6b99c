"""Shared model pieces: the constraint naming convention, enums and timestamps."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlmodel import SQLModel

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
