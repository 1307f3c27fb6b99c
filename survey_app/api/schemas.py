"""Models of the API's own responses (the scores and progress documents are in
:mod:`survey_app.services.scores_model`); the OpenAPI schemas are generated from them."""

from __future__ import annotations

from pydantic import MISSING, NonNegativeInt

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
