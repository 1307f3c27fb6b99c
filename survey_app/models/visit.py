"""The visit log: each visit or call attempt to a sampled household."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class Visit(SQLModel, table=True):
    """One attempt to reach a household, in person or by phone, and what came of it.

    ``outcome`` is a disposition code (``Disposition``); ``note`` is the worker's own text
    and stays out of exports and audit details.
    """

    __table_args__ = (
        # Field progress counts attempts per worker and day within a campaign.
        Index("ix_visit_campaign_worker_time", "campaign_id", "worker_id", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    household_id: int = Field(foreign_key="household.id", index=True)
    worker_id: int = Field(foreign_key="app_user.id")
    attempted_at: datetime
    channel: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    note: str = Field(default="", max_length=500)
    next_appointment: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
