"""Year over year (issue 18 item 2): the predecessor link, ``campaign create --previous``,
and the scores document's section on the demo (heshan-2021 against heshan-2020), whose
changes are R's (``tests/analysis/data/year_over_year``) rounded as the document rounds."""

import csv
import json
from pathlib import Path

import pytest
from numpy.testing import assert_allclose
from sqlmodel import select

from survey_app.models import CampaignQuestionnaire
from survey_app.services import campaign_years, campaigns, demo, demo_previous, scores
from survey_app.services.campaigns import CampaignError
from survey_app.services.score_filters import ScoreFilters

DATA = Path(__file__).parents[1] / "analysis" / "data" / "year_over_year"


def _csv(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def heshan(session):
    return campaigns.get_campaign(demo.SLUG, session=session)


@pytest.mark.demo_data
def test_demo_section_equals_the_r_reference(session, heshan):
    section = scores.scores_document(heshan, session=session).year_over_year
    assert section.previous_slug == demo_previous.SLUG and section.previous_year == 2020
    assert section.changed_items == ["information_disclosure"]
    compared = [f for f in section.figures if f.not_compared is None]
    for f, row, ref in zip(compared, _csv("estimates.csv"), _csv("year_over_year.out"),
                           strict=True):
        assert ((f.group or "pooled"), f.figure, f.dimension or "") == (
            row["group"], row["figure"], row["dimension"])
        assert_allclose([f.current, f.current_se, f.previous, f.previous_se],
                        [float(row[k]) for k in ("current", "current_se", "previous",
                                                 "previous_se")], rtol=1e-12)
        decimals = 4 if f.figure.endswith("rate") else 2
        assert_allclose([f.change, *f.change_ci],
                        [round(float(ref[k]), decimals) for k in ("change", "low", "high")],
                        atol=1e-12)
        assert_allclose([f.change_se, f.probability_not_lower],
                        [round(float(ref["se"]), 6), round(float(ref["p_not_lower"]), 4)],
                        atol=1e-12)
        assert f.not_lower is (float(ref["change"]) >= 0)


@pytest.mark.demo_data
def test_reworded_item_is_not_compared(session, heshan):
    section = scores.scores_document(heshan, session=session).year_over_year
    marked = {(f.group, f.figure, f.dimension) for f in section.figures
              if f.not_compared == "wording_changed"}
    # Reworded in 2020's relocated questionnaire only: the pooled cell and the relocated
    # group lose the item's dimension and the composite; rental subsidy keeps its composite.
    assert marked == {(None, "composite_index", None), ("relocated", "composite_index", None),
                      (None, "dimension_rate", "information_disclosure"),
                      (None, "dimension_index", "information_disclosure")}
    rental = section.figure("composite_index", group="rental_subsidy")
    assert rental.change is not None and rental.not_compared is None
    assert "口径变化" in section.summary_zh and "信息公开" in section.summary_zh


@pytest.mark.demo_data
def test_raked_and_filtered_documents_compare_like_with_like(session, heshan):
    raked = scores.scores_document(heshan, ScoreFilters(weighting="raked"), session=session)
    previous = campaigns.get_campaign(demo_previous.SLUG, session=session)
    before = scores.scores_document(previous, ScoreFilters(weighting="raked"),
                                    session=session)
    rate = raked.year_over_year.figure("overall_rate")
    assert rate.previous == before.pooled.items[before.overall_item].rate
    assert rate.current == raked.pooled.items[raked.overall_item].rate
    assert "year_over_year" in raked.conventions
    assert before.year_over_year is None  # 2020 names no predecessor
    group = scores.scores_document(heshan, ScoreFilters(group="rental_subsidy"),
                                   session=session).year_over_year
    assert {f.group for f in group.figures} == {None, "rental_subsidy"}


@pytest.mark.demo_data
def test_api_and_cli_carry_the_section(app, client, session, runner, heshan):
    result = runner.invoke(args=["scores", demo.SLUG, "--format", "json"])
    assert result.exit_code == 0, result.output
    section = json.loads(result.output)["year_over_year"]
    assert section["previous_slug"] == demo_previous.SLUG
    assert {"change", "change_ci", "probability_not_lower", "not_lower", "not_compared"} <= set(
        section["figures"][0])


def test_create_following_copies_settings_and_questionnaires(session, runner):
    base = runner.invoke(args=["campaign", "create", "yoy-2021", "--title", "某区2021年度调查",
                               "--year", "2021", "--district", "某区"])
    assert base.exit_code == 0, base.output
    assert runner.invoke(args=["campaign", "settings", "yoy-2021", "--target", "0.85",
                               "--rule", "stepwise", "--deduction", "0.5"]).exit_code == 0
    result = runner.invoke(args=["campaign", "create", "yoy-2022", "--previous", "yoy-2021"])
    assert result.exit_code == 0, result.output
    before = campaigns.get_campaign("yoy-2021", session=session)
    after = campaigns.get_campaign("yoy-2022", session=session)
    assert (after.year, after.title, after.district) == (2022, "某区2022年度调查", "某区")
    assert after.previous_campaign_id == before.id
    for name in campaign_years.COPIED_SETTINGS:
        assert getattr(after, name) == getattr(before, name), name
    links = [sorted((q.household_group, q.questionnaire_version_id) for q in session.exec(
        select(CampaignQuestionnaire).where(CampaignQuestionnaire.campaign_id == c.id)))
        for c in (before, after)]
    assert links[0] == links[1] and len(links[1]) == 2


def test_predecessor_must_be_earlier_and_acyclic(session):
    a = campaigns.create_campaign("yoy-a", "A", 2020, session=session)
    b = campaigns.create_campaign("yoy-b", "B", 2021, session=session)
    with pytest.raises(CampaignError):
        campaign_years.set_previous(a, a, session=session)
    with pytest.raises(CampaignError):
        campaign_years.set_previous(a, b, session=session)  # not an earlier year
    campaign_years.set_previous(b, a, session=session)
    assert campaign_years.previous_campaign(b, session=session) is a
    campaign_years.set_previous(b, None, session=session)
    assert b.previous_campaign_id is None


def test_cli_previous_links_and_refuses(session, runner):
    for slug, year in (("yoy-x", 2020), ("yoy-y", 2021)):
        assert runner.invoke(args=["campaign", "create", slug, "--title", slug, "--year",
                                   str(year)]).exit_code == 0
    assert runner.invoke(args=["campaign", "previous", "yoy-y", "yoy-x"]).exit_code == 0
    refused = runner.invoke(args=["campaign", "previous", "yoy-x", "yoy-y"])
    assert refused.exit_code != 0 and "yoy-y" in refused.output
    assert runner.invoke(args=["campaign", "create", "yoy-z"]).exit_code != 0  # no title


def test_openapi_describes_the_section():
    from survey_app.api.openapi import openapi_document

    schemas = openapi_document()["components"]["schemas"]
    assert "year_over_year" in schemas["Scores"]["properties"]
    figure = schemas["YearOverYearFigure"]["properties"]
    assert {"change", "change_se", "change_ci", "probability_not_lower", "not_lower",
            "not_compared", "current_se", "previous_se"} <= set(figure)
    assert {"previous_slug", "changed_items", "figures", "summary_zh"} <= set(
        schemas["YearOverYear"]["properties"])
    assert {"index_se", "rate_se"} <= set(schemas["DimensionCell"]["properties"])
