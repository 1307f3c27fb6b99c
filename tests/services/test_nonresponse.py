"""Non-response weighting in the scores document (issue 18): raked weights meet the roster's
margins, the raked document differs from the design one only where weights matter, and the
non-response section's response rates are the progress document's RR1."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey_app.services import campaigns, demo, nonresponse, progress, scores
from survey_app.services.counted_data import load_counted
from survey_app.services.score_filters import ScoreFilters


@pytest.fixture
def heshan(session):
    return campaigns.get_campaign(demo.SLUG, session=session)


@pytest.mark.demo_data
@pytest.mark.parametrize("filters", [ScoreFilters(), ScoreFilters(mode="paper")])
def test_raked_weights_meet_the_roster_margins(session, heshan, filters):
    """Within each group, the weighted respondents of every community and every project with
    respondents are one common multiple of the roster's households there (1 when every roster
    category answered and every respondent is on the roster; otherwise missing categories'
    households are spread over the rest, and open-link respondents without a household keep
    their design-weighted share), and the group's weights add up to its N_h."""
    data = load_counted(heshan, filters, session=session)
    roster = scores.roster_counts(heshan, session=session)
    pops = roster.populations()
    raking = nonresponse.rake_counted(data, roster.counts, pops, filters)
    assert raking.result.converged and raking.result.n_trimmed == 0
    groups = data.factor("groups")
    for key, position in (("communities", 2), ("projects", 1)):
        factor = data.factor(key)
        for g_code, group in enumerate(groups.labels):
            in_group = groups.codes == g_code
            assert_allclose(raking.weights[in_group].sum(), pops[group], rtol=1e-9)
            ratios = []
            for c_code, label in enumerate(factor.labels):
                cell = in_group & (factor.codes == c_code)
                households = sum(n for k, n in roster.counts.items()
                                 if k[0] == group and k[position] == label)
                if cell.any() and households:
                    ratios.append(raking.weights[cell].sum() / households)
            assert_allclose(ratios, ratios[0], rtol=1e-8)
            if filters.mode is None and None not in factor.labels:
                assert_allclose(ratios[0], 1.0, rtol=1e-9)


@pytest.mark.demo_data
def test_raked_document_changes_the_estimates_not_the_counts(session, heshan):
    design = scores.scores_document(heshan, session=session)
    raked = scores.scores_document(heshan, ScoreFilters(weighting="raked"), session=session)
    assert raked.filters.weighting == "raked" and design.filters.weighting == "design"
    overall = design.overall_item
    d, r = design.pooled.items[overall], raked.pooled.items[overall]
    assert (d.counts, d.n_valid, d.weight_groups) == (r.counts, r.n_valid, r.weight_groups)
    assert d.rate != r.rate and r.rate_ci[0] < r.rate < r.rate_ci[1]
    assert raked.indicator.actual == r.rate
    assert raked.nonresponse.weighting == "raked"
    head = {h.figure: h for h in raked.nonresponse.headline}
    assert head["overall_rate"].design == d.rate and head["overall_rate"].raked == r.rate
    # the difference of the unrounded figures, rounded once
    assert abs(head["overall_rate"].difference - (r.rate - d.rate)) <= 1e-4 + 1e-12
    assert design.nonresponse.headline == raked.nonresponse.headline
    assert "加权调整" in raked.nonresponse.limitation_zh
    assert raked.conventions["weighting"].startswith(design.conventions["weighting"])
    assert "raked" in raked.conventions["weighting"] and "raked" not in design.conventions[
        "weighting"]


@pytest.mark.demo_data
def test_response_rates_are_the_progress_documents(session, heshan):
    section = scores.scores_document(heshan, session=session).nonresponse
    fieldwork = progress.progress_document(heshan, session=session)
    rates = {(r.kind, r.code): r for r in section.response_rates}
    for kind, rows in (("group", fieldwork.groups), ("community", fieldwork.communities)):
        for row in rows:
            mine = rates[kind, row.code]
            assert (mine.sampled, mine.response_rate) == (row.sampled, row.response_rate)
            assert mine.ci[0] < mine.response_rate < mine.ci[1]
    assert {r.kind for r in section.response_rates} == {"group", "project", "community"}
    shown = [r.response_rate for r in section.response_rates if r.kind == "community"]
    assert f"{min(shown):.1%}" in section.limitation_zh


def test_a_roster_category_without_respondents_is_merged():
    # Hand-made: group g has communities A (60 households) and B (40) and projects P (100);
    # only A answered, so B's households are spread over A: every weight = 100/2.
    from survey_app.services.counted_data import CountedData, Factor

    data = CountedData(campaign=None, questionnaires={}, item_ids=[], overall_item="",
                       dimensions={}, labels={}, groups=["g", "g"], codes=np.zeros((0, 2)))
    data._factors["communities"] = Factor.of(["A", "A"])
    data._factors["projects"] = Factor.of(["P", "P"])
    counts = {("g", "P", "A"): 60, ("g", "P", "B"): 40}
    raking = nonresponse.rake_counted(data, counts, {"g": 100}, ScoreFilters())
    assert raking.weights.tolist() == [50.0, 50.0]
    assert raking.merged == ("g/community:B",)
