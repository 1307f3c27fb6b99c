"""The demo region's roll-up (益阳市 2021: 赫山区, 资阳区, 桃江县) against an independent
computation from the three campaigns' scores documents, and its page, API and command.

Independent path: each campaign's scores document computed afresh (no cache), its
household-group cells read here, and the stratified sum done with numpy in the test
(Cochran 1977 eq. 5.6 over county x group strata), not through analysis.rollup.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey_app.services import api_tokens, campaigns, demo, demo_region, rollups, scores, units
from tests.factories import login, make_user

CITY = "430900"


def _strata(session):
    """(N_ch, rate, SE) of every county x group cell, and each county's pooled rate."""
    strata, pooled = [], {}
    for slug in ("heshan-2021", *(c.slug for c in demo_region.COUNTIES)):
        doc = scores.scores_document(campaigns.get_campaign(slug, session=session),
                                     session=session)
        pooled[slug] = doc.pooled.items[doc.overall_item]
        for row in doc.groups:
            item = row.items[doc.overall_item]
            strata.append((slug, row.population[row.code], item.rate, item.rate_se))
    return strata, pooled


@pytest.mark.demo_data
def test_city_rollup_equals_the_stratified_sum_by_hand(app, session):
    doc = rollups.rollup_document(units.unit_by_code(CITY, session=session), 2021,
                                  session=session)
    strata, pooled = _strata(session)
    n = np.array([s[1] for s in strata], dtype=float)
    p = np.array([s[2] for s in strata])
    se = np.array([s[3] for s in strata])
    w = n / n.sum()
    assert len(strata) == 6 and doc.population == n.sum() == 3100 + 1000 + 600
    assert_allclose(doc.rate.estimate, w @ p, atol=5e-5)
    assert_allclose(doc.rate.se, np.sqrt(np.sum(w**2 * se**2)), atol=5e-7)
    county_rates = [r.rate.estimate for r in doc.counties]
    assert abs(np.mean(county_rates) - doc.rate.estimate) > 0.004  # not a mean of counties
    assert doc.rate.ci[0] < doc.rate.estimate < doc.rate.ci[1]
    # Each county's row is its campaign's pooled rate and Wilson interval (up to rounding).
    for row in doc.counties:
        assert_allclose(row.rate.estimate, pooled[row.campaign].rate, atol=1e-4)
        assert_allclose(row.rate.ci, pooled[row.campaign].rate_ci, atol=2e-4)
    assert [r.rank for r in doc.counties] == [1, 2, 3]
    assert all(r.rank_ci[0] <= r.rank <= r.rank_ci[1] for r in doc.counties)
    assert doc.counties[-1].name == "资阳区" and doc.counties[-1].funnel == "low_998"
    assert doc.left_out == [] and set(doc.conventions) == {"rollup", "league", "funnel",
                                                           "inputs", "reliability"}


@pytest.mark.demo_data
def test_county_rollup_is_the_heshan_campaign(app, session):
    doc = rollups.rollup_document(units.unit_by_code("430903", session=session), 2021,
                                  session=session)
    heshan = scores.scores_document(campaigns.get_campaign(demo.SLUG, session=session),
                                    session=session)
    item = heshan.pooled.items[heshan.overall_item]
    assert doc.n_campaigns == 1
    assert_allclose([doc.rate.estimate, *doc.rate.ci], [item.rate, *item.rate_ci], atol=1e-4)
    empty = rollups.rollup_document(units.unit_by_code(CITY, session=session), 2019,
                                    session=session)
    assert empty.n_campaigns == 0 and empty.rate.estimate is None and empty.counties == []


@pytest.mark.demo_data
def test_rollup_page_api_and_command(app, client, session, runner):
    user = make_user(session)
    login(client, user)
    page = client.get(f"/evaluate/units/{CITY}/2021").get_data(as_text=True)
    for text in ("益阳市2021年度满意度汇总", "排名表", "漏斗图", "资阳区", "桃江县", "赫山区",
                 "名次95%区间", "<svg"):
        assert text in page
    # The region's α from the pooled pair sums, shown as the document holds it.
    pooled = next(a for a in rollups.rollup_document(
        units.unit_by_code(CITY, session=session), 2021, session=session).reliability
        if a.dimension == "all")
    assert "除总体满意度外的全部评价题" in page and f"{pooled.alpha:.3f}" in page
    # With its Feldt interval and rows used, in the campaign dashboard's words.
    assert f"{pooled.ci[0]:.3f}–{pooled.ci[1]:.3f}" in page
    assert f'<td class="num">{pooled.n_used}</td>' in page
    assert "95%置信区间" in page and "使用样本" in page and "按Feldt法计算" in page
    assert client.get("/evaluate/units/999999/2021").status_code == 404
    assert client.get("/evaluate/units/4309%2500/2021").status_code == 404
    assert f"/evaluate/units/{CITY}/2021" in client.get("/evaluate/").get_data(as_text=True)
    token = api_tokens.create_api_token(user, session=session)
    response = client.get(f"/api/v1/units/{CITY}/2021/rollup",
                          headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert response.status_code == 200 and body["unit"]["name"] == "益阳市"
    scale_row, *dimension_rows = body["reliability"]
    assert scale_row["ci"] == list(pooled.ci) and scale_row["n_used"] == pooled.n_used
    assert all(r["ci"] is None and r["n_used"] is None for r in dimension_rows)
    assert [c["code"] for c in body["counties"]][-1] == "430902"
    result = runner.invoke(args=["rollup", CITY, "2021"])
    assert result.exit_code == 0 and "益阳市" in result.output and "430902" in result.output


@pytest.mark.demo_data
def test_an_evaluator_granted_a_county_sees_that_county_only(app, client, session):
    from survey_app.services import unit_scope

    county = make_user(session)
    unit_scope.grant_unit(county, units.unit_by_code("430903", session=session),
                          session=session)
    login(client, county)
    index = client.get("/evaluate/").get_data(as_text=True)
    assert "赫山区2021年度" in index and "资阳区2021年度" not in index
    assert client.get("/evaluate/ziyang-2021/comments").status_code == 404
    assert client.get("/evaluate/units/430903/2021").status_code == 200
    assert client.get(f"/evaluate/units/{CITY}/2021").status_code == 404  # other counties
    token = api_tokens.create_api_token(county, session=session)
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/campaigns", headers=headers).get_json()["campaigns"]
    # Its county's campaigns of both years (the 2020 one is last year's comparison).
    assert sorted(c["slug"] for c in listed) == ["heshan-2020", demo.SLUG]
    assert client.get("/api/v1/campaigns/ziyang-2021/progress",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/units/{CITY}/2021/rollup", headers=headers).status_code == 404


@pytest.mark.demo_data
def test_an_evaluator_granted_the_city_sees_its_counties(app, client, session):
    from survey_app.services import unit_scope

    city = make_user(session)
    unit_scope.grant_unit(city, units.unit_by_code(CITY, session=session), session=session)
    login(client, city)
    index = client.get("/evaluate/").get_data(as_text=True)
    assert all(f"{name}2021年度" in index for name in ("赫山区", "资阳区", "桃江县"))
    assert client.get("/evaluate/ziyang-2021/comments").status_code == 200
    assert client.get(f"/evaluate/units/{CITY}/2021").status_code == 200
    assert client.get("/evaluate/units/430000/2021").status_code == 404  # the province


@pytest.mark.demo_data
def test_a_document_from_before_the_interval_still_loads(app, session):
    """A roll-up document without the reliability rows' ci and n_used (as built before they
    existed) validates, with None for both."""
    from survey_app.services.rollup_model import RollupDocument

    doc = rollups.rollup_document(units.unit_by_code(CITY, session=session), 2021,
                                  session=session)
    wire = doc.model_dump(mode="json")
    assert wire["reliability"][0]["ci"] is not None
    for row in wire["reliability"]:
        del row["ci"], row["n_used"]
    older = RollupDocument.model_validate(wire)
    assert all(r.ci is None and r.n_used is None for r in older.reliability)
    assert [r.alpha for r in older.reliability] == [r.alpha for r in doc.reliability]
