"""Survey waves, their questionnaires, projects and communities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import CampaignStatus, utcnow


class Campaign(SQLModel, table=True):
    """One survey wave, e.g. ``heshan-2021``, with its indicator settings."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=200)
    year: int
    district: str = Field(default="", max_length=100)
    # The administrative unit (usually a county) the campaign surveys; None for campaigns
    # made before units existed. Roll-ups of a city or province read the campaigns of its
    # subtree (services.rollups).
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=16)
    opens_on: date | None = None
    closes_on: date | None = None
    # Indicator settings (METHODS.md section 5); defaults are the documented ones.
    indicator_measure: str = Field(default="rate", max_length=16)
    indicator_target: float = 0.90
    indicator_points: float = 10.0
    indicator_rule: str = Field(default="proportional", max_length=16)
    indicator_rule_params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    double_entry: bool = True
    # What happens when a paper form arrives for a household that answered on the web.
    duplicate_rule: str = Field(default="keep_first", max_length=16)
    sample_seed: int | None = None
    sample_confidence: float = 0.95
    sample_margin: float = 0.05
    expected_response_rate: float = 0.8
    sample_drawn_at: datetime | None = None
    # Printed on the letters and the poster, so residents know who is asking and whom to
    # call (services.letters): 委托单位 (the bureau that commissions the evaluation), 评价机构
    # (the evaluation firm) and the survey hotline.
    commissioner: str = Field(default="", max_length=200)
    evaluator_org: str = Field(default="", max_length=200)
    hotline: str = Field(default="", max_length=64)
    # Back-checks (services.backchecks): the items asked again (None: the defaults) and the
    # discrepancy rate above which a worker is flagged (by the Wilson lower bound).
    backcheck_items: list[str] | None = Field(default=None, sa_column=Column(JSON))
    backcheck_threshold: float = 0.10
    # The same area's campaign of an earlier year (its predecessor): the scores document
    # compares this campaign's headline figures with it (services.year_over_year).
    previous_campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    created_at: datetime = Field(default_factory=utcnow)


class QuestionnaireVersion(SQLModel, table=True):
    """An immutable snapshot of a questionnaire definition."""

    __table_args__ = (UniqueConstraint("name", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    content_hash: str = Field(max_length=64)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CampaignQuestionnaire(SQLModel, table=True):
    """Which questionnaire version a household group answers in a campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "household_group"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    household_group: str = Field(max_length=32)
    questionnaire_version_id: int = Field(foreign_key="questionnaireversion.id")


class Project(SQLModel, table=True):
    """A shantytown-renovation project (棚改项目) within a campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    planned_households: int | None = None


class Community(SQLModel, table=True):
    """A residents' community (社区) and the street office (街道) it belongs to."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    street: str = Field(default="", max_length=100)
