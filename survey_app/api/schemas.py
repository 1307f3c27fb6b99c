"""Models of the API's own responses (the scores and progress documents are in
:mod:`survey_app.services.scores_model`); the OpenAPI schemas are generated from them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field, NonNegativeInt

from survey_app.services.scores_model import DocumentModel


class CampaignSummary(DocumentModel):
    """A campaign with its roster, sample and completed-response counts."""

    slug: str
    title: str
    year: int
    status: str
    households: NonNegativeInt
    sampled: NonNegativeInt
    completed_responses: NonNegativeInt


class CampaignList(DocumentModel):
    campaigns: list[CampaignSummary]


class ApiError(DocumentModel):
    """Every error response of the API; ``fields`` holds the invalid filters' messages."""

    error: str
    status: int
    message: str
    fields: dict[str, list[str]] | MISSING = MISSING


#: The export formats a job can produce (``services.exports.EXPORTERS``; a test keeps them
#: equal).
ExportFormat = Literal["csv", "xlsx", "sav", "summary", "indicator", "backchecks"]


class ExportFilters(BaseModel):
    """The scores filters, as the ``/scores`` query parameters take them."""

    model_config = ConfigDict(extra="forbid")

    group: Literal["relocated", "rental_subsidy"] | None = None
    project: str | None = None
    community: str | None = None
    mode: Literal["web", "web_token", "web_open", "paper", "interview"] | None = None
    date_from: str | None = Field(None, json_schema_extra={"format": "date"})
    date_to: str | None = Field(None, json_schema_extra={"format": "date"})
    include_excluded: Literal["y", "true", "1"] | None = None
    include_unverified: Literal["y", "true", "1"] | None = None
    weighting: Literal["design", "raked"] | None = None


class ExportRequest(BaseModel):
    """The body of ``POST /campaigns/{slug}/exports``."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat
    filters: ExportFilters = Field(default_factory=ExportFilters)


class JobDocument(DocumentModel):
    """A background job as its requester sees it: ``state``, ``done`` of ``total`` steps,
    and once ``done`` the file's name, SHA-256, size and download path."""

    id: int
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    done: NonNegativeInt
    total: NonNegativeInt
    attempts: NonNegativeInt
    error: str | None
    name: str | None
    sha256: str | None
    size: NonNegativeInt | None
    created_at: datetime
    finished_at: datetime | None
    download: str | None
