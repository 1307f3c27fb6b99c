"""Responses, their answers, and the records of paper double entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import ResponseStatus, utcnow


class Response(SQLModel, table=True):
    """One questionnaire answered by one household (or one open-link visitor)."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "instance_id"),
        UniqueConstraint("campaign_id", "receipt_code"),
        # Covers the scores data-version aggregate (services.score_cache.data_version), so a
        # cached scores request reads the index, not every response row (migration 0002).
        # id second: keyset pages of a campaign's responses (exports: campaign_id = ? AND
        # id > ? ORDER BY id LIMIT n) stay index range scans in id order, with or without
        # status/exclusion filters.
        Index("ix_response_data_version", "campaign_id", "id", "status", "excluded",
              "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    household_group: str = Field(max_length=32)
    questionnaire_version_id: int = Field(foreign_key="questionnaireversion.id")
    mode: str = Field(max_length=16)
    # Client-generated id of the form instance: makes submission idempotent.
    instance_id: str = Field(max_length=64)
    payload_hash: str = Field(default="", max_length=64)
    status: str = Field(default=ResponseStatus.COMPLETE, max_length=16, index=True)
    receipt_code: str | None = Field(default=None, max_length=16)
    locale: str = Field(default="zh", max_length=8)
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    entered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Keyed hash of the client network and device, for data-quality flags only.
    client_fingerprint: str | None = Field(default=None, max_length=64)
    excluded: bool = False
    exclusion_reason: str | None = Field(default=None, sa_column=Column(Text))
    # When an evaluator last decided about the response's quality flags (excluded it, counted
    # it again, or kept it counted): the quality page's "undecided" filter (migration 0012).
    decided_at: datetime | None = None
    # Copies of the answers the scores read (services.answer_copies), written with the
    # answers: one short row per respondent instead of ~15 answer rows. rating_codes has
    # one character per rating item (migration 0003 backfilled it), comment the free-text
    # answers joined (migration 0005), comment_terms its word tokens for the comment themes
    # (0006). NOT NULL since 0007: a row written around the services fails at the insert
    # instead of being counted without its answers.
    rating_codes: str = Field(sa_column=Column(Text, nullable=False))
    comment: str = Field(sa_column=Column(Text, nullable=False))
    comment_terms: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Answer(SQLModel, table=True):
    """The answer to one question. Codes are stored raw (5..1, 9 for 不清楚)."""

    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    question_id: str = Field(max_length=64)
    code: str | None = Field(default=None, max_length=200)
    number: int | None = None
    text: str | None = Field(default=None, sa_column=Column(Text))


class PaperForm(SQLModel, table=True):
    """A paper questionnaire being typed in, possibly twice (blind double entry)."""

    __table_args__ = (UniqueConstraint("campaign_id", "household_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    status: str = Field(max_length=16, index=True)
    batch: str = Field(default="", max_length=32)
    response_id: int | None = Field(default=None, foreign_key="response.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaperEntry(SQLModel, table=True):
    """One typing of a paper form by one worker."""

    __table_args__ = (UniqueConstraint("paper_form_id", "entry_round"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_form_id: int = Field(foreign_key="paperform.id", index=True)
    entry_round: int
    entered_by_id: int = Field(foreign_key="app_user.id")
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    payload_hash: str = Field(max_length=64)
    # When the entry page was opened (a signed stamp in the form, survey_app.entry.forms),
    # None when unknown (entries before migration 0018, a missing or forged stamp).
    # With created_at (saved): the keying duration of the fabrication indicators.
    started_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Reconciliation(SQLModel, table=True):
    """A reviewer's decision on one field where two entries disagreed."""

    __table_args__ = (UniqueConstraint("paper_form_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_form_id: int = Field(foreign_key="paperform.id", index=True)
    question_id: str = Field(max_length=64)
    first_value: str | None = Field(default=None, sa_column=Column(Text))
    second_value: str | None = Field(default=None, sa_column=Column(Text))
    chosen_value: str | None = Field(default=None, sa_column=Column(Text))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by_id: int = Field(foreign_key="app_user.id")
    decided_at: datetime = Field(default_factory=utcnow)


class CommentRedaction(SQLModel, table=True):
    """What an evaluator removed by hand from a response's free text (fragments the
    scrubber missed, or the whole comment). Applied wherever the text leaves the system
    (``services.text_scrub.scrub``); the answer rows keep the original."""

    response_id: int = Field(foreign_key="response.id", primary_key=True)
    fragments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    withhold_all: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
