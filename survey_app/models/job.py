"""Background jobs: one row per export, report, letter batch or roster import run off the
request (the transactional outbox of the job queue).

The row is written by the request's service in the same transaction as the request's audit
event (``services.jobs.create_job``); only after that commit is the job handed to the queue
(``survey_app.job_queue``), and a relay hands over again any row the queue never got or whose
worker died (``services.jobs.due_jobs``). The worker claims the row, reports its progress
in it, and records the file it wrote (``services.job_runner``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # written; handed (or about to be handed) to the queue
    RUNNING = "running"  # claimed by a worker, which keeps ``heartbeat_at`` fresh
    DONE = "done"  # the file is written, its SHA-256 recorded
    FAILED = "failed"  # the work raised, or the job was claimed too often


class BackgroundJob(SQLModel, table=True):
    """One job: what to do (``kind``, ``params``), who asked, how far it is, what it made."""

    __table_args__ = (Index("ix_backgroundjob_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # "export", "report", "letters", "roster"
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    requested_by: int = Field(foreign_key="app_user.id", index=True)
    audit_event_id: int | None = None  # the request's audit event (same transaction)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    progress_done: int = 0
    progress_total: int = 0
    attempts: int = 0
    claim: str | None = Field(default=None, max_length=32)
    heartbeat_at: datetime | None = None
    enqueued_at: datetime | None = None  # last handed to the queue
    result_path: str | None = Field(default=None, max_length=255)  # under JOB_FILES_DIR
    result_name: str | None = Field(default=None, max_length=255)  # the download's name
    result_sha256: str | None = Field(default=None, max_length=64)
    result_size: int | None = None
    error: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
