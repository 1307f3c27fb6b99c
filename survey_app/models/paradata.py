"""Paradata of interviews taken on a worker's phone (issue 22), kept apart from the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class InterviewParadata(SQLModel, table=True):
    """How one interview (a ``Response`` of mode ``interview``) was taken: when it started and
    ended on the phone, the seconds spent on each question, and where, if the worker let the
    phone say.

    ``question_seconds`` maps question ids to seconds (the time the question was the one on
    screen, summed over visits to it). ``position_status``: ``given`` (latitude, longitude and
    accuracy in metres set), ``refused`` (the worker declined once, or the phone refused),
    ``unavailable`` (no fix) or ``not_asked``. Never exported with the answers.
    """

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    worker_id: int = Field(foreign_key="app_user.id", index=True)
    started_at: datetime
    ended_at: datetime
    question_seconds: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    position_status: str = Field(default="not_asked", max_length=16)
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    synced_at: datetime = Field(default_factory=utcnow)
