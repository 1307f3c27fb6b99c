"""The append-only audit trail and its hash chain. Database triggers refuse UPDATE and
DELETE on both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Who acted, readable even for residents and the CLI ("cli", "resident:<token id>").
    actor_label: str = Field(max_length=100)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(default="", max_length=64)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class AuditSeal(SQLModel, table=True):
    """One link of the hash chain over the audit trail (services.audit_chain).

    Seals are appended in ``seq`` order, each over the previous seal's hash and its event's
    canonical content, so an event changed or removed afterwards, even by a database
    superuser who drops the triggers, no longer matches its seal.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="auditevent.id", unique=True)
    chain_hash: str = Field(max_length=64)
    sealed_at: datetime = Field(default_factory=utcnow)
