"""The OpenAPI 3.1 description of the read-only JSON API (public; tested against responses)."""

from __future__ import annotations

from survey_app.services.scores import CONVENTIONS


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


NUM = {"type": "number"}
INT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
# An interval [low, high]; a bound is null where it is undefined (e.g. alpha on 2 rows).
PAIR = _nullable({"type": "array", "items": _nullable(NUM), "minItems": 2, "maxItems": 2})
REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def _obj(properties: dict, required: list[str] | None = None, *, closed: bool = True) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


ITEM_CELL = _obj({
    "respondents": INT, "n_valid": INT, "n_na": INT, "n_missing": INT,
    "na_share": _nullable(NUM), "suppressed": {"const": False},
    "rate": _nullable(NUM), "rate_ci": PAIR, "rate_se": _nullable(NUM),
    "effective_n": _nullable(NUM), "score": _nullable(NUM), "score_ci": PAIR,
    "index": _nullable(NUM), "index_ci": PAIR, "index_se": _nullable(NUM),
}, ["respondents", "n_valid", "n_na", "na_share", "suppressed", "rate", "rate_ci", "score",
    "score_ci", "index", "index_ci"])

DIMENSION_CELL = _obj({
    "index": _nullable(NUM), "rate": _nullable(NUM), "items": {"type": "array", "items": STR},
    "rate_ci": PAIR, "index_ci": PAIR, "score": _nullable(NUM), "score_ci": PAIR,
    "n_valid": INT,
}, ["index", "rate", "items"])

# Breakdown rows (groups, projects, communities) add their code and label to a cell.
_ROW_KEYS = {"code": STR, "label": STR}
SUPPRESSED_CELL = _obj({"respondents": INT, "suppressed": {"const": True}, **_ROW_KEYS},
                       ["respondents", "suppressed"])

FULL_CELL = _obj({
    "respondents": INT, "suppressed": {"const": False},
    "population": {"type": "object", "additionalProperties": INT},
    "items": {"type": "object", "additionalProperties": _ref("ItemCell")},
    "dimensions": {"type": "object", "additionalProperties": _ref("DimensionCell")},
    "composite_index": _nullable(_obj({"estimate": _nullable(NUM), "ci": PAIR,
                                        "se": _nullable(NUM)})),
    **_ROW_KEYS,
}, ["respondents", "suppressed", "population", "items", "dimensions", "composite_index"])

CELL = {"oneOf": [_ref("SuppressedCell"), _ref("FullCell")]}


def _breakdown_row() -> dict:
    return {"allOf": [_ref("Cell"), {"type": "object", "required": ["code", "label"]}]}


ALPHA = _nullable(_obj({"alpha": _nullable(NUM), "standardized_alpha": _nullable(NUM),
                        "ci": PAIR, "n_used": INT,
                        "n_items": INT, "convention": STR}))

SCORES = _obj({
    "campaign": _obj({"slug": STR, "title": STR, "year": {"type": "integer"}, "district": STR}),
    "filters": _obj({"group": _nullable(STR), "project": _nullable(STR),
                     "community": _nullable(STR), "mode": _nullable(STR),
                     "date_from": _nullable({"type": "string", "format": "date"}),
                     "date_to": _nullable({"type": "string", "format": "date"}),
                     "include_excluded": {"type": "boolean"}}),
    "snapshot": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "n_respondents": INT,
    "conventions": _obj({key: STR for key in CONVENTIONS}),
    "items": {"type": "array", "items": _obj({"id": STR, "label": STR,
                                               "dimension": _nullable(STR),
                                               "overall": {"type": "boolean"}})},
    "dimensions": {"type": "array", "items": _obj({"id": STR, "label": STR, "items": {
        "type": "array", "items": STR}})},
    "overall_item": STR,
    "strata": {"type": "array", "items": _obj({
        "group": STR, "label": STR, "population": INT, "respondents": INT,
        "design_weight": _nullable(NUM)})},
    "pooled": _ref("Cell"),
    "groups": {"type": "array", "items": _breakdown_row()},
    "projects": {"type": "array", "items": _breakdown_row()},
    "communities": {"type": "array", "items": _breakdown_row()},
    "reliability": _nullable(_obj({"pairwise": ALPHA, "listwise": ALPHA,
                                   "items": {"type": "array", "items": STR}})),
    "drivers": {"type": "array", "items": _obj({
        "dimension": STR, "label": STR, "importance": _nullable(NUM),
        "p_value": _nullable(NUM), "n_used": INT})},
    "ipa": _nullable(_obj({
        "importance_cut": _nullable(NUM), "performance_cut": _nullable(NUM),
        "points": {"type": "array", "items": _obj({
            "dimension": STR, "label": STR, "importance": _nullable(NUM),
            "performance": _nullable(NUM), "quadrant": STR})}})),
    "indicator": _nullable(_obj({
        "measure": {"enum": ["rate", "score", "index"]}, "actual": _nullable(NUM),
        "se": _nullable(NUM), "target": NUM, "points": NUM, "points_earned": _nullable(NUM),
        "probability_meets_target": _nullable(NUM), "rule": STR, "convention": STR})),
    "mode_effects": {"type": "array", "items": _obj({
        "item": STR, "group": STR, "n_web": INT, "n_paper": INT, "suppressed": {"type": "boolean"},
        "mann_whitney_u": _nullable(NUM), "p_value": _nullable(NUM),
        "rank_biserial": _nullable(NUM), "chi_square_p": _nullable(NUM)})},
    "comments": _nullable(_obj({"n_comments": INT, "n_empty": INT, "themes": {
        "type": "array", "items": _obj({"term": STR, "comment_count": INT, "occurrences": INT,
                                        "examples": {"type": "array", "items": STR}})}})),
})

_PROGRESS_ROW = _obj({"code": STR, "label": STR, "households": INT, "sampled": INT,
                      "refused": INT, "completed": INT, "response_rate": _nullable(NUM)})

PROGRESS = _obj({
    "campaign": _obj({"slug": STR, "title": STR, "status": STR,
                      "opens_on": _nullable({"type": "string", "format": "date"}),
                      "closes_on": _nullable({"type": "string", "format": "date"})}),
    "households": INT, "sampled": INT, "completed": INT, "completed_from_sample": INT,
    "completed_open_link": INT, "excluded": INT, "partial": INT,
    "completed_by_mode": {"type": "object", "additionalProperties": INT},
    "response_rate": _nullable(NUM),
    "groups": {"type": "array", "items": _PROGRESS_ROW},
    "communities": {"type": "array", "items": _PROGRESS_ROW},
    "convention": STR,
})

CAMPAIGNS = _obj({"campaigns": {"type": "array", "items": _obj({
    "slug": STR, "title": STR, "year": {"type": "integer"}, "status": STR, "households": INT,
    "sampled": INT, "completed_responses": INT})}})

ERROR = _obj({"error": STR, "status": {"type": "integer"}, "message": STR,
              "fields": {"type": "object"}}, ["error", "status", "message"])


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema_name)}}}


_ERRORS = {"401": _json("Error", "No or unknown bearer token"),
           "403": _json("Error", "The token's user is not an evaluator or admin")}
# As CampaignCreateForm allows them (a NUL or other odd character is a 400, not a campaign).
_SLUG = {"name": "slug", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]+$", "maxLength": 64}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


OPENAPI_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Resident satisfaction survey API (居民满意度调查)",
        "version": "1.0.0",
        "description": "Read-only scores for evaluators. Every request except this document "
                       "needs `Authorization: Bearer <token>` of an evaluator or admin "
                       "(`survey-app api-token create USERNAME`). Numbers are the dashboard's; "
                       "each names its convention in `conventions`.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
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
                _query("mode", {"enum": ["web", "web_token", "web_open", "paper"]}, "Mode"),
                _query("date_from", {"type": "string", "format": "date"},
                       "Submitted on or after (Beijing day)"),
                _query("date_to", {"type": "string", "format": "date"},
                       "Submitted on or before (Beijing day)"),
                _query("include_excluded", {"enum": ["y", "true", "1"]},
                       "Also count responses an evaluator excluded"),
            ],
            "responses": {"200": _json("Scores", "Scores"),
                          "400": _json("Error", "Invalid filters"),
                          "404": _json("Error", "No such campaign"), **_ERRORS}}},
        "/campaigns/{slug}/progress": {"get": {
            "operationId": "campaignProgress", "summary": "Fieldwork progress",
            "parameters": [_SLUG],
            "responses": {"200": _json("Progress", "Progress"),
                          "404": _json("Error", "No such campaign"), **_ERRORS}}},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI document",
                                  "content": {"application/json": {"schema": {
                                      "type": "object"}}}}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": ERROR, "CampaignList": CAMPAIGNS, "Progress": PROGRESS, "Scores": SCORES,
            "Cell": CELL, "SuppressedCell": SUPPRESSED_CELL, "FullCell": FULL_CELL,
            "ItemCell": ITEM_CELL, "DimensionCell": DIMENSION_CELL,
        },
    },
}
