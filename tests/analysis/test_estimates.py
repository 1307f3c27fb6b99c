"""Reported estimates (rate with Wilson at Kish's n_eff with the FPC, index,
score = 20 + 0.8 x index), dimension rates, the indicator measure switch and the scores
document's conventions.

The "as scores.py computed it" tests restate, line by line, the formulas of
survey_app/services/scores.py at commit c079e3b (``_item_cell``, ``_cell_with_statistics``,
``_indicator``) and require the new fields to be *identical* (==), since the web layer
will read them instead of computing them.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import (
    ItemEstimates,
    campaign_statistics,
    dimension_rate,
    fpc_effective_n,
    indicator_from_estimates,
    indicator_score,
    interval_from_se,
    item_estimates,
    rate_estimate,
    satisfaction_score,
    score_from_index,
    scores_conventions,
    stratified_mean,
    wilson_interval,
)
from analysis.conventions import COMPOSITE_CONVENTION
from analysis.indicator import StepwiseRule

# METHODS.md section 2 worked example: counts 120, 60, 15, 4, 1 for 5..1 plus 10 不清楚.
WORKED = np.repeat([5, 4, 3, 2, 1, 9], [120, 60, 15, 4, 1, 10]).astype(float)

# survey_app/services/scores.py CONVENTIONS at commit c079e3b (MIN_CELL 5, RATE_DECIMALS 4,
# SCORE_DECIMALS 2), copied verbatim: the document's text must not change unintentionally.
# Changed on purpose in issue 18: weighting (weight_groups), rate_ci (FPC), index_ci (which
# r_h), composite (each item's own group weights).
CONVENTIONS_C079E3B = {
    "counted_responses": "status complete and not excluded by an evaluator",
    "scale": "codes 5 非常满意 .. 1 非常不满意; 9 不清楚 and missing answers excluded from every "
             "denominator and reported as their own share",
    "rate": "satisfaction rate 满意率 = (n5+n4)/N_valid (一般 counts as not satisfied)",
    "score": "satisfaction score 满意度得分 = (100n5+80n4+60n3+40n2+20n1)/N_valid "
             "= 20 + 0.8 x index",
    "index": "linear index = (mean-1)/(5-1) x 100",
    "weighting": "strata = household groups; pooled = sum_h (N_h/N) ybar_h with N_h the roster "
                 "households of group h in the cell (project/community) and ybar_h over the valid "
                 "answers; a group without valid answers to an item drops out of that item's "
                 "weights (each item cell lists the groups that entered them as weight_groups), "
                 "in the item's estimates and in the composite index's SE alike; N_h is raised "
                 "to r_h if open-link respondents outnumber the roster",
    "rate_ci": "95% Wilson score interval at Kish's effective sample size with the FPC, "
               "n* = 1/sum_h W_h^2 (1-f_h)/r_h, W_h = N_h/N, f_h = r_h/N_h (within one "
               "household group the Wilson interval with the without-replacement variance, "
               "n* = rN/(N-r)); the FPC is applied alike to the interval, the SE and "
               "P(true >= target)",
    "index_ci": "95% normal interval, stratified SE with finite-population correction "
                "sqrt(sum_h (N_h/N)^2 (1-f_h) s_h^2/r_h); for one item r_h and f_h count its "
                "valid answers (the item's sample: METHODS section 4 with NA answers excluded "
                "from every denominator, section 1), the composite's f_h its respondents (a "
                "domain estimate); both agree for an item without NA answers; "
                "score interval = 20 + 0.8 x index interval",
    "dimension": "dimension index = equal-weight mean of its item indices; dimension rate = "
                 "equal-weight mean of its item rates (analysis.composite_index)",
    "composite": "overall index = equal-weight mean of dimension indices (overall item excluded), "
                 "normal interval from the Taylor-linearised stratified SE with FPC f_h = r_h/N_h "
                 "over respondents; each item enters with its own group weights (the groups in "
                 "its weight_groups), as in its pooled estimate (analysis.campaign_statistics)",
    "reliability": "Cronbach alpha over all rating items except the overall item, 9 as missing; "
                   "pairwise (all rows with >= 2 answers) and listwise (complete rows); Feldt CI",
    "validity": "per dimension a one-factor model fitted by maximum likelihood to the items' "
                "correlation matrix (= lavaan cfa std.lv std.all loadings); "
                "CR = (Σλ)²/((Σλ)² + Σ(1 − λ²)), AVE = Σλ²/k; corrected item-total "
                "correlation = item vs the sum of the dimension's other items; 9 and missing "
                "answers dropped listwise within the dimension; CR and AVE need >= 3 items "
                "(1 item: undefined; 2 items: a one-factor model is not identified); 'all "
                "items' is the same model over every rating item but the overall item that at "
                "least 50% of respondents answered; R² of OLS of the overall item on the "
                "dimension scores (mean of the dimension's items), listwise, leaving out "
                "dimensions scored for fewer than 50% of respondents",
    "drivers": "Spearman correlation of each dimension score with the overall item "
               "(pairwise deletion); IPA crosshair at the means",
    "mode_effects": "web (token + open link) vs paper within each household group: "
                    "Mann-Whitney U with rank-biserial r, chi-square of mode x category "
                    "(sparse categories merged)",
    "comments": "jieba tokens (>= 2 characters, stop words removed), ranked by comments containing "
                "the term; comments that only praise or thank (analysis.comments.is_praise) give "
                "no theme",
    "suppression": "cells with fewer than 5 respondents show counts only",
    "indicator": "campaign indicator settings applied to the overall item's stratified measure; "
                 "P(true >= target) = Phi((actual - target)/SE), SE with FPC",
    "snapshot": "sha256 over the sorted lines 'response_id:payload_hash' of the counted responses",
    "rounding": "rates 4 decimals, scores and indices 2 decimals",
}


def _two_strata_statistics(seed=7, **kwargs):
    rng = np.random.default_rng(seed)
    n = 400
    codes = rng.choice([1, 2, 3, 4, 5, 9, np.nan], p=[.03, .05, .12, .35, .38, .05, .02],
                       size=(5, n))
    strata = np.where(np.arange(n) < 150, "relocated", "rental")
    return campaign_statistics(codes, strata, {"relocated": 600, "rental": 2500},
                               {"housing": [0, 1], "service": [2, 3]}, 4,
                               item_intervals=False, **kwargs)


# --- references -----------------------------------------------------------------------------
def test_worked_example_rate_interval_score_and_index():
    # METHODS.md section 2: N_valid 200; rate 0.900, Wilson 95 % CI (0.8506, 0.9343);
    # score 89.4; linear index 86.75. One stratum, so n_eff = N_valid.
    s = campaign_statistics(WORKED[None, :].repeat(2, axis=0), ["a"] * WORKED.size,
                            {"a": 10**9}, {"d": [0]}, 1, item_intervals=False)
    e = s.items[0].estimates
    assert e.effective_n == pytest.approx(200, rel=1e-12)
    assert_allclose(e.rate.estimate, 0.9, rtol=1e-12)
    assert_allclose((e.rate.interval.low, e.rate.interval.high), (0.8506, 0.9343), atol=5e-5)
    assert_allclose(e.index.estimate, 86.75, rtol=1e-12)
    assert_allclose(e.score.estimate, 89.4, rtol=1e-12)
    assert_allclose(e.score.estimate, satisfaction_score(WORKED).value, rtol=1e-12)


def test_rate_interval_is_wilson_of_r_prop_test():
    # scipy test_morestats.py::test_ci_wilson_method (R 3.6.2 prop.test): k = 3, n = 10,
    # 95 %: (0.1077913, 0.6032219); 99 %: (0.07956632, 0.6799753). One stratum with a
    # population so large that the FPC is 1 to 1e-9: n_eff = 10.
    rate = stratified_mean({"a": [1.0] * 3 + [0.0] * 7}, {"a": 10**10})
    assert_allclose([rate_estimate(rate).interval.low, rate_estimate(rate).interval.high],
                    [0.1077913, 0.6032219], rtol=1e-6)
    ci99 = rate_estimate(rate, confidence=0.99).interval
    assert_allclose([ci99.low, ci99.high], [0.07956632, 0.6799753], rtol=1e-6)


def test_rate_interval_at_kish_effective_n_with_fpc_hand_computed():
    # Two strata, 150 of N 600 and 250 of N 2500: w = 4 and 10, n_eff = (Σw)²/Σw²
    # = 3100² / (150·16 + 250·100) = 350.729... (stratified.effective_sample_size example);
    # with the FPC n* = 1/Σ W_h² (1 - f_h)/r_h (hand formula, Kish 1965 sections 2.2, 11.7).
    values = {"relocated": [1.0] * 120 + [0.0] * 30, "rental": [1.0] * 225 + [0.0] * 25}
    rate = stratified_mean(values, {"relocated": 600, "rental": 2500})
    assert_allclose(rate.effective_n, 3100**2 / (150 * 16 + 250 * 100), rtol=1e-12)
    n_eff = 1 / ((600 / 3100)**2 * (1 - 150 / 600) / 150
                 + (2500 / 3100)**2 * (1 - 250 / 2500) / 250)
    p = (600 * 0.8 + 2500 * 0.9) / 3100
    z = 1.959963984540054
    centre = (p + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z / (1 + z**2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2))
    e = rate_estimate(rate)
    assert_allclose(e.estimate, p, rtol=1e-12)
    assert_allclose([e.interval.low, e.interval.high], [centre - half, centre + half],
                    rtol=1e-12)


def test_score_is_linear_in_the_index():
    # score = 20 + 0.8 x index: code 1 -> index 0, score 20; code 5 -> index 100, score 100.
    assert score_from_index(0.0) == 20.0
    assert score_from_index(100.0) == 100.0
    index = stratified_mean({"a": [100.0, 75, 75, 50], "b": [25.0, 50]}, {"a": 40, "b": 10})
    e = item_estimates(stratified_mean({"a": [1.0, 1, 1, 0], "b": [0.0, 0]},
                                       {"a": 40, "b": 10}), index)
    assert_allclose(e.score.se, 0.8 * e.index.se, rtol=1e-15)
    assert_allclose([e.score.interval.low, e.score.interval.high],
                    [20 + 0.8 * e.index.interval.low, 20 + 0.8 * e.index.interval.high],
                    rtol=1e-15)


def test_dimension_rate_is_the_equal_weight_mean():
    assert dimension_rate([0.75, 0.85]) == 0.8
    with pytest.raises(ValueError):
        dimension_rate([])


def test_unknown_measure_is_an_error():
    e = _two_strata_statistics().items[4].estimates
    with pytest.raises(ValueError, match="unknown measure"):
        e.measure("median")


# --- identical to what scores.py computed (c079e3b) ---------------------------------------
def test_item_estimates_identical_to_scores_item_cell():
    s = _two_strata_statistics()
    for it in s.items:
        # scores._item_cell
        rate, n_eff = it.rate.estimate, it.rate.effective_n
        n_star = fpc_effective_n(it.rate)  # issue 18: the Wilson interval with the FPC
        wilson = wilson_interval(min(rate * n_star, n_star), n_star)
        idx = interval_from_se(it.index.estimate, it.index.se)
        e = it.estimates
        assert isinstance(e, ItemEstimates)
        assert (e.rate.estimate, e.rate.se, e.effective_n) == (rate, it.rate.se, n_eff)
        assert (e.rate.interval.low, e.rate.interval.high) == (wilson.low, wilson.high)
        assert (e.index.estimate, e.index.se) == (it.index.estimate, it.index.se)
        assert (e.index.interval.low, e.index.interval.high) == (idx.low, idx.high)
        assert e.score.estimate == 20 + 0.8 * it.index.estimate
        assert (e.score.interval.low, e.score.interval.high) == \
            (20 + 0.8 * idx.low, 20 + 0.8 * idx.high)


def test_dimension_rates_identical_to_scores_cell():
    s = _two_strata_statistics()
    assert [d.name for d in s.dimensions] == [d.name for d in s.composite.dimensions]
    for dim, comp in zip(s.dimensions, s.composite.dimensions, strict=True):
        # scores._cell_with_statistics
        expected = sum(s.items[i].rate.estimate for i in comp.items) / len(comp.items)
        assert (dim.index, dim.rate, dim.items) == (comp.index, expected, comp.items)


@pytest.mark.parametrize("measure", ["rate", "index", "score"])
def test_indicator_measure_switch_identical_to_scores_indicator(measure):
    target = {"rate": 0.9, "index": 80.0, "score": 85.0}[measure]
    rule = StepwiseRule(deduction_per_point=0.5)
    s = _two_strata_statistics(indicator_measure=measure, target=target, rule=rule)
    overall_rate, overall_index = s.items[4].rate, s.items[4].index
    # scores._indicator
    if measure == "rate":
        actual, se = overall_rate.estimate, overall_rate.se
    elif measure == "index":
        actual, se = overall_index.estimate, overall_index.se
    else:
        actual, se = 20 + 0.8 * overall_index.estimate, 0.8 * overall_index.se
    expected = indicator_score(actual, target, 10.0, rule, measure=measure, se=se)
    assert s.indicator == expected
    assert (s.indicator.actual, s.indicator.se) == (actual, se)
    assert indicator_from_estimates(s.items[4].estimates, measure, target, 10.0, rule) == \
        expected


def test_default_indicator_is_the_overall_rate():
    s = _two_strata_statistics()
    assert s.indicator.measure == "rate"
    assert (s.indicator.actual, s.indicator.se) == (s.items[4].rate.estimate,
                                                    s.items[4].rate.se)


# --- conventions ----------------------------------------------------------------------------
def test_conventions_are_the_documents_text():
    conventions = scores_conventions(
        counted_responses=CONVENTIONS_C079E3B["counted_responses"],
        snapshot=CONVENTIONS_C079E3B["snapshot"], min_cell=5, rate_decimals=4,
        score_decimals=2)
    assert conventions == CONVENTIONS_C079E3B
    assert list(conventions) == list(CONVENTIONS_C079E3B)


def test_conventions_are_the_results_own_strings():
    s = _two_strata_statistics()
    conventions = scores_conventions(counted_responses="", snapshot="")
    e = s.items[0].estimates
    assert e.rate.convention == conventions["rate"]
    assert e.index.convention == conventions["index"]
    assert e.score.convention == conventions["score"]
    assert e.rate.interval.method == conventions["rate_ci"]
    assert e.index.interval.method == e.score.interval.method == conventions["index_ci"]
    assert {d.convention for d in s.dimensions} == {conventions["dimension"]}
    assert conventions["composite"] == COMPOSITE_CONVENTION == s.composite_convention
    ci90 = item_estimates(s.items[0].rate, s.items[0].index, confidence=0.9)
    assert ci90.rate.interval.method == scores_conventions(
        counted_responses="", snapshot="", confidence=0.9)["rate_ci"]


# --- building blocks of the pipeline --------------------------------------------------------
def test_probability_meets_target_is_the_normal_cdf():
    # Φ(2) = 0.9772498680518208 (scipy.special.ndtr(2), mpmath ncdf(2) to 16 digits).
    from analysis import probability_meets_target
    assert_allclose(probability_meets_target(0.92, 0.90, 0.01), 0.9772498680518208, rtol=1e-12)
    assert probability_meets_target(0.9, 0.9, 0.0) == 1.0
    assert probability_meets_target(0.89, 0.9, 0.0) == 0.0
    with pytest.raises(ValueError):
        probability_meets_target(0.9, 0.9, -1.0)


def test_response_table_counts_every_answer_once():
    from analysis.response_table import response_table
    rng = np.random.default_rng(3)
    codes = rng.choice([1, 2, 3, 4, 5, 9, np.nan], size=(4, 300))
    strata = rng.choice(["b", "a", "c"], size=300)
    t = response_table(codes, strata, {"a": 500, "b": 500, "c": 500})
    assert t.labels.tolist() == ["a", "b", "c"]
    for j in range(4):
        for h, label in enumerate(t.labels):
            x = codes[j][strata == label]
            expected = [np.sum(x == c) for c in (1, 2, 3, 4, 5, 9)] + [np.isnan(x).sum()]
            assert t.counts[j, h].tolist() == expected
    assert t.respondents.tolist() == [np.sum(strata == h) for h in ("a", "b", "c")]
