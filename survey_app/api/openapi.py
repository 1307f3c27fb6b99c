"""The OpenAPI 3.1 description of the JSON API (public; tested against responses).

The paths and parameters are written here; the response schemas are generated from the
models the API serialises (:mod:`survey_app.services.scores_model`,
:mod:`survey_app.api.schemas`), so the description cannot drift from the documents.
Generated on first use (:func:`openapi_document`), not at start-up: workers that never
serve it never pay for it.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel

from survey_app.api.schemas import ApiError, CampaignList, ExportRequest, JobDocument
from survey_app.services.backcheck_document import BackcheckDocument
from survey_app.services.rollup_model import RollupDocument
from survey_app.services.scores_model import ProgressDocument, ScoresDocument

STR = {"type": "string"}
REF = "#/components/schemas/"
#: Public schema name -> the model of that response (the names are part of the API).
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "Error": ApiError, "CampaignList": CampaignList, "Progress": ProgressDocument,
    "Scores": ScoresDocument, "Rollup": RollupDocument, "Backchecks": BackcheckDocument,
    "Job": JobDocument,
}
#: Public schema name -> the model of that request body.
REQUEST_MODELS: dict[str, type[BaseModel]] = {"ExportRequest": ExportRequest}


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def response_schemas(models: dict[str, type[BaseModel]],
                     requests: dict[str, type[BaseModel]] | None = None) -> dict[str, dict]:
    """The components' schemas: each response (and request body) model under its public
    name, and the models nested in them under their class names."""
    schemas: dict[str, dict] = {}
    modes = [(m, "serialization") for m in models.items()]
    modes += [(m, "validation") for m in (requests or {}).items()]
    for (name, model), mode in modes:
        schema = model.model_json_schema(ref_template=REF + "{model}", mode=mode)
        for nested, definition in schema.pop("$defs", {}).items():
            if schemas.setdefault(nested, definition) != definition:
                raise ValueError(f"two models are named {nested}")
        schemas[name] = schema
    return schemas


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema_name)}}}


_ERRORS = {"401": _json("Error", "No, unknown, revoked or expired bearer token (an expired "
                                  "one says so in `message` and in `WWW-Authenticate`)"),
           "403": _json("Error", "The token's user is not an evaluator or admin")}
# As CampaignCreateForm allows them (a NUL or other odd character is a 400, not a campaign).
_SLUG = {"name": "slug", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]+$", "maxLength": 64}}

_JOB_ID = {"name": "job_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


INFO = {
    "title": "Resident satisfaction survey API (居民满意度调查)",
    "version": "1.0.0",
    "description": "Scores for evaluators, and exports run as background jobs. Every "
                   "request except this document needs `Authorization: Bearer <token>` of "
                   "an evaluator or admin (`survey-app api-token create USERNAME`; a token "
                   "lasts 180 days unless created with `--days N`, at most 730, and is "
                   "refused with 401 after it expires or is revoked). "
                   "Numbers are the dashboard's; each names its convention in "
                   "`conventions`. A job is visible only to the account that started it "
                   "(404 for anyone else).",
}

PATHS = {
    "/campaigns": {"get": {
        "operationId": "listCampaigns", "summary": "Campaigns with their counts",
        "responses": {"200": _json("CampaignList", "Campaigns"), **_ERRORS}}},
    "/campaigns/{slug}/scores": {"get": {
        "operationId": "campaignScores", "summary": "The scores document",
        "parameters": [
            _SLUG,
            _query("group", {"enum": ["relocated", "rental_subsidy"]}, "Household group"),
            _query("project", STR, "Project code"),
            _query("community", STR, "Community code"),
            _query("mode", {"enum": ["web", "web_token", "web_open", "paper",
                                              "interview"]}, "Mode"),
            _query("date_from", {"type": "string", "format": "date"},
                   "Submitted on or after (Beijing day)"),
            _query("date_to", {"type": "string", "format": "date"},
                   "Submitted on or before (Beijing day)"),
            _query("include_excluded", {"enum": ["y", "true", "1"]},
                   "Also count responses an evaluator excluded"),
            _query("include_unverified", {"enum": ["y", "true", "1"]},
                   "Also count open-link answers that identified no roster household"),
            _query("weighting", {"enum": ["design", "raked"], "default": "design"},
                   "Respondent weights: design (N_h/r_h) or raked to the roster's "
                   "community and project margins (non-response weighting)"),
        ],
        "responses": {"200": _json("Scores", "Scores"),
                      "400": _json("Error", "Invalid filters"),
                      "404": _json("Error", "No such campaign"), **_ERRORS}}},
    "/campaigns/{slug}/progress": {"get": {
        "operationId": "campaignProgress", "summary": "Fieldwork progress",
        "parameters": [_SLUG],
        "responses": {"200": _json("Progress", "Progress"),
                      "404": _json("Error", "No such campaign"), **_ERRORS}}},
    "/campaigns/{slug}/backchecks": {"get": {
        "operationId": "campaignBackchecks",
        "summary": "Back-check results: the seeded draw and its top-ups, per-worker "
                   "discrepancy rates with Wilson intervals and flags, and each drawn form "
                   "(households by pseudonym; no contact details and no answers)",
        "parameters": [_SLUG],
        "responses": {"200": _json("Backchecks", "Back-checks"),
                      "404": _json("Error", "No such campaign, or no back-check sample "
                                            "drawn yet"), **_ERRORS}}},
    "/units/{code}/{year}/rollup": {"get": {
        "operationId": "unitRollup",
        "summary": "Roll-up of a region for a year: the stratified estimate over county x "
                   "household-group strata, the league table with rank intervals, the funnel",
        "parameters": [
            {"name": "code", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[0-9]{6}([0-9]{3}){0,2}$"},
             "description": "GB/T 2260 region code, e.g. 430900 (益阳市)"},
            {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"},
             "description": "Campaign year"},
        ],
        "responses": {"200": _json("Rollup", "Roll-up"),
                      "404": _json("Error", "No such region"),
                      "409": _json("Error", "The campaigns cannot be rolled up together "
                                            "(their overall items differ)"), **_ERRORS}}},
    "/campaigns/{slug}/exports": {"post": {
        "operationId": "startExport",
        "summary": "Start an export as a background job (audited; the scores snapshot it "
                   "exports is anchored in the audit chain, and a job that finds other data "
                   "fails with `SnapshotChanged`)",
        "parameters": [_SLUG],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": _ref("ExportRequest")}}},
        "responses": {"202": {**_json("Job", "Started: poll the job at `Location`"),
                              "headers": {"Location": {"schema": STR,
                                                       "description": "The job's status"}}},
                      "400": _json("Error", "Unknown format or invalid filters"),
                      "404": _json("Error", "No such campaign"),
                      "429": _json("Error", "Too many of this account's jobs are still "
                                            "queued or running (nothing started)"),
                      **_ERRORS}}},
    "/jobs/{job_id}": {"get": {
        "operationId": "jobStatus",
        "summary": "A job's state and progress; once done, its file's SHA-256 and download "
                   "path",
        "parameters": [_JOB_ID],
        "responses": {"200": _json("Job", "The job"),
                      "404": _json("Error", "No such job, or not started by this account"),
                      **_ERRORS}}},
    "/jobs/{job_id}/download": {"get": {
        "operationId": "jobDownload", "summary": "The finished job's file",
        "parameters": [_JOB_ID],
        "responses": {"200": {"description": "The file (its SHA-256 is the ETag)",
                              "content": {"application/octet-stream": {"schema": {
                                  "type": "string", "format": "binary"}}}},
                      "404": _json("Error", "No such job, or not started by this account"),
                      "409": _json("Error", "The job is not done (yet)"),
                      "410": _json("Error", "The file was removed since: start the export "
                                            "again"), **_ERRORS}}},
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI document",
                              "content": {"application/json": {"schema": {
                                  "type": "object"}}}}}}},
}


@cache
def openapi_document() -> dict:
    """The OpenAPI document (built once per process; callers must not change it)."""
    return {
        "openapi": "3.1.0", "info": INFO, "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}], "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": response_schemas(RESPONSE_MODELS, REQUEST_MODELS),
        },
    }
