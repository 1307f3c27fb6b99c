"""Back-checks: a seeded draw of workers' completed paper forms and each re-contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class BackcheckDraw(SQLModel, table=True):
    """The back-check sample of a campaign: one per campaign, reproducible from its seed
    (services.backchecks). ``items`` are the questions asked again, fixed at the draw."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", unique=True)
    seed: int
    share: float
    min_per_worker: int
    items: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # SHA-256 of the drawn household codes (sorted): anyone re-running the draw checks it.
    codes_sha256: str = Field(max_length=64)
    drawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    drawn_at: datetime = Field(default_factory=utcnow)


class BackcheckCase(SQLModel, table=True):
    """One drawn paper form: whose it is, the call outcome and the answers given again.

    ``worker_id`` is who typed the form's first entry (the worker who brought it in);
    ``answers`` maps an item to the code the household gave on the call; ``discrepant``
    is None until a reached call compared at least one item.
    """

    __table_args__ = (UniqueConstraint("draw_id", "household_id"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="backcheckdraw.id", index=True)
    paper_form_id: int = Field(foreign_key="paperform.id")
    household_id: int = Field(foreign_key="household.id", index=True)
    worker_id: int = Field(foreign_key="app_user.id")
    outcome: str | None = Field(default=None, max_length=16)
    attempts: int = 0
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    discrepant: bool | None = None
    checked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    checked_at: datetime | None = None
    # 0: drawn with the sample; k: drawn by the k-th top-up (services.backcheck_topup).
    topup_round: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The top-up round that drew a replacement for this unreachable case (None: not replaced).
    replaced_in_round: int | None = None


class BackcheckTopup(SQLModel, table=True):
    """One top-up of a draw: replacements for unreachable cases, from the same workers'
    forms not yet drawn, seeded by the draw's seed and the round (analysis.backcheck_topup)."""

    __table_args__ = (UniqueConstraint("draw_id", "round_number"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="backcheckdraw.id", index=True)
    round_number: int
    replaced: int
    drawn: int
    # SHA-256 of the household codes drawn in this round (sorted).
    codes_sha256: str = Field(max_length=64)
    drawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    drawn_at: datetime = Field(default_factory=utcnow)
