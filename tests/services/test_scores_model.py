"""The typed documents: the builders return them; each serialises to JSON that validates back
to the same document, leaves out what the builder leaves out, and a document whose shape
drifted is refused."""

import copy
import datetime
import doctest
import json

import pytest
from pydantic import MISSING, ValidationError

from survey_app.api.openapi import REF, openapi_document
from survey_app.services import campaigns, demo, progress, scores, scores_model
from survey_app.services.score_filters import MIN_CELL, ScoreFilters
from survey_app.services.scores_model import (
    BreakdownCell,
    DimensionCell,
    IndicatorDocument,
    ItemCell,
    ProgressDocument,
    ScoresDocument,
    SuppressedBreakdownCell,
    SuppressedCell,
)

FILTERS = [
    ScoreFilters(),
    ScoreFilters(group="relocated"),
    # Suppressed projects beside full ones.
    ScoreFilters(community="HS-THL", mode="paper"),
    # Fewer than 5 respondents: the pooled cell is counts only, no statistics at all.
    ScoreFilters(mode="paper", date_from=datetime.date(2021, 11, 3),
                        date_to=datetime.date(2021, 11, 3)),
    ScoreFilters(include_excluded=True),
]


def _json(value) -> str:
    # Sorted keys as the API sends them; 10 and 10.0 differ here, as they do on the wire.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _roundtrip(model_class, document):
    """``document`` (a model as built, or its JSON as a dict) through JSON and back: the
    same JSON, byte for byte, and the same model."""
    if isinstance(document, dict):
        model = model_class.model_validate(document)
        assert _json(model.model_dump(mode="json")) == _json(document)
        return model
    assert isinstance(document, model_class)
    wire = document.model_dump(mode="json")
    assert model_class.model_validate(wire) == document
    assert _json(model_class.model_validate(wire).model_dump(mode="json")) == _json(wire)
    return document


@pytest.fixture
def heshan(session):
    return campaigns.get_campaign(demo.SLUG, session=session)


@pytest.mark.demo_data
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: str(f.as_dict()))
def test_scores_document_serialises_to_the_builders_json(session, heshan, filters):
    doc = _roundtrip(ScoresDocument, scores.scores_document(heshan, filters, session=session))
    assert doc.filters.include_excluded == filters.include_excluded
    if doc.n_respondents < MIN_CELL:
        assert isinstance(doc.pooled, SuppressedCell)
        assert doc.pooled.model_dump() == {"respondents": doc.n_respondents, "suppressed": True}
        assert doc.indicator is None and doc.reliability is None
    else:
        assert doc.pooled.items[doc.overall_item].rate is not None
    for row in (*doc.groups, *doc.projects, *doc.communities):
        assert isinstance(row, SuppressedBreakdownCell if row.suppressed else BreakdownCell)


@pytest.mark.demo_data
def test_indicator_and_progress_documents_serialise_to_the_builders_json(session, heshan):
    indicator = _roundtrip(IndicatorDocument,
                           scores.indicator_document(heshan, session=session))
    assert indicator.indicator.measure == "rate"
    fieldwork = _roundtrip(ProgressDocument, progress.progress_document(heshan, session=session))
    assert fieldwork.completed == sum(fieldwork.completed_by_mode.values())
    assert fieldwork.campaign.opens_on == heshan.opens_on


@pytest.mark.demo_data
def test_fields_the_builder_leaves_out_stay_out(session, heshan):
    """An item without valid answers has no effective_n; a dimension of several items has no
    intervals of its own. (The demo has neither, so they are made from its cells.)"""
    pooled = scores.scores_document(heshan, session=session).model_dump(mode="json")["pooled"]
    # As built: every item with a rate has its effective_n, only one-item dimensions carry
    # intervals.
    assert all("effective_n" in c for c in pooled["items"].values() if c["rate"] is not None)
    assert all(("rate_ci" in d) == (len(d["items"]) == 1)
               for d in pooled["dimensions"].values())
    item = {**next(iter(pooled["items"].values())), "n_valid": 0, "rate": None,
            "rate_ci": None, "score": None, "score_ci": None, "index": None,
            "index_ci": None, "rate_se": None, "index_se": None}
    del item["effective_n"]
    cell = _roundtrip(ItemCell, item)
    assert cell.effective_n is MISSING and "effective_n" not in cell.model_dump()

    one_item = next(iter(pooled["dimensions"].values()))
    assert _roundtrip(DimensionCell, one_item).n_valid == one_item["n_valid"]
    several = {"index": 80.5, "rate": 0.875, "items": ["a", "b"], "index_se": 1.2,
               "rate_se": 0.02}
    dimension = _roundtrip(DimensionCell, several)
    assert dimension.rate_ci is MISSING and dimension.model_dump(mode="json") == several


@pytest.mark.demo_data
def test_a_document_of_another_shape_is_refused(session, heshan):
    document = scores.scores_document(heshan, session=session).model_dump(mode="json")
    unknown = copy.deepcopy(document)
    unknown["pooled"]["items"][document["overall_item"]]["median"] = 4
    missing = copy.deepcopy(document)
    del missing["communities"][0]["label"]
    negative = copy.deepcopy(document)
    negative["strata"][0]["respondents"] = -1
    for drifted in (unknown, missing, negative):
        with pytest.raises(ValidationError):
            ScoresDocument.model_validate(drifted)
    with pytest.raises(ValidationError):  # frozen
        scores.scores_document(heshan, session=session).n_respondents = 0


def test_openapi_response_schemas_are_the_models_schemas():
    schemas = openapi_document()["components"]["schemas"]
    generated = ScoresDocument.model_json_schema(ref_template=REF + "{model}",
                                                 mode="serialization")
    nested = generated.pop("$defs")
    assert schemas["Scores"] == generated
    assert all(schemas[name] == schema for name, schema in nested.items())
    item_cell = schemas["ItemCell"]
    assert "effective_n" in item_cell["properties"]
    assert "effective_n" not in item_cell["required"]
    assert item_cell["additionalProperties"] is False


def test_module_examples_run():
    assert doctest.testmod(scores_model).failed == 0
