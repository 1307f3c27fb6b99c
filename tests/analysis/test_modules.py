"""Unit tests of the remaining behaviour, with hand-computed values."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import (
    BandRule,
    StepwiseRule,
    aapor_rates,
    bootstrap_counts_interval,
    campaign_statistics,
    category_counts,
    comment_themes,
    composite_index,
    cronbach_alpha,
    derived_importance,
    effective_sample_size,
    entropy_weights,
    finite_population_correction,
    importance_performance_quadrants,
    importance_weights,
    indicator_score,
    item_summary,
    item_total_statistics,
    kish_design_effect,
    linear_index,
    margin_of_error,
    mode_effects,
    satisfaction_rate,
    satisfaction_score,
    stratified_bootstrap_interval,
    stratified_mean,
    t_interval,
)


# --- measures ------------------------------------------------------------------------------
def test_unknown_code_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        category_counts([1, 2, 7])


def test_configurable_na_code():
    s = item_summary([5, 4, 0, 3], na_code=0)
    assert (s.n_valid, s.n_na) == (3, 1)


def test_single_measure_functions_state_convention():
    codes = [5, 4, 3, 9]
    assert_allclose(satisfaction_rate(codes).value, 2 / 3)
    assert_allclose(satisfaction_score(codes).value, 80.0)
    assert_allclose(linear_index(codes).value, 75.0)
    assert "top-2" in satisfaction_rate(codes).convention


def test_no_valid_answers_gives_nan():
    s = item_summary([9, 9, None])
    assert s.n_valid == 0 and math.isnan(s.rate)


# --- intervals -----------------------------------------------------------------------------
def test_t_interval_with_fpc_is_narrower():
    x = [1.0, 2, 3, 4, 5, 6]
    full, fpc = t_interval(x), t_interval(x, population_size=12)
    half = (full.high - full.low) / 2
    assert_allclose((fpc.high - fpc.low) / 2, half * math.sqrt(1 - 6 / 12))
    assert_allclose(finite_population_correction(6, 12), 0.5)


def test_count_bootstrap_equals_row_bootstrap_in_distribution():
    # Multinomial counts reproduce the row bootstrap: same centre and spread (MC tolerance).
    counts = [1, 4, 15, 60, 120]
    ci = bootstrap_counts_interval(counts, method="percentile", n_resamples=20_000)
    rows = np.repeat(np.arange(1, 6), counts).astype(float)
    rng = np.random.default_rng(1)
    reps = rows[rng.integers(0, rows.size, size=(20_000, rows.size))].mean(axis=1)
    assert_allclose([ci.low, ci.high], np.quantile(reps, [0.025, 0.975]), atol=0.01)


def test_stratified_bootstrap_contains_estimate_and_is_seeded():
    data = {"a": [3.0, 4, 5, 5, 4, 2], "b": [5.0, 4, 4, 3, 5]}
    a = stratified_bootstrap_interval(data, {"a": 60, "b": 40}, n_resamples=3000, seed=7)
    b = stratified_bootstrap_interval(data, {"a": 60, "b": 40}, n_resamples=3000, seed=7)
    assert a == b
    assert a.low < a.estimate < a.high
    assert_allclose(a.estimate, 0.6 * np.mean(data["a"]) + 0.4 * np.mean(data["b"]))


# --- stratified ----------------------------------------------------------------------------
def test_kish_deff_hand_computed():
    # 150 respondents with w = 4 and 250 with w = 10: n Σw² / (Σw)² = 400·27400/3100²
    w = [4.0] * 150 + [10.0] * 250
    assert_allclose(kish_design_effect(w), 400 * 27400 / 3100**2)
    assert_allclose(effective_sample_size(w), 3100**2 / 27400)
    assert_allclose(kish_design_effect([2.0] * 10), 1.0)


def test_stratified_mean_reports_each_stratum():
    e = stratified_mean({"relocated": [1, 0, 1, 1], "rental": [1, 1, 0]},
                        {"relocated": 600, "rental": 2500})
    assert [s.label for s in e.strata] == ["relocated", "rental"]
    assert_allclose(e.estimate, (600 * 0.75 + 2500 * 2 / 3) / 3100)
    assert e.se < e.se_without_fpc


# --- reliability ---------------------------------------------------------------------------
def test_item_total_matches_direct_definition(cronbach_long_wide):
    x = cronbach_long_wide
    s = item_total_statistics(x)
    total = x.sum(axis=1)
    direct = [np.corrcoef(x[:, j], total - x[:, j])[0, 1] for j in range(x.shape[1])]
    assert_allclose(s.corrected_item_total, direct, rtol=1e-12)
    deleted = [cronbach_alpha(np.delete(x, j, axis=1)).alpha for j in range(x.shape[1])]
    assert_allclose(s.alpha_if_deleted, deleted, rtol=1e-12)


def test_standardized_alpha_hand_formula(cronbach_long_wide):
    r = np.corrcoef(cronbach_long_wide, rowvar=False)
    k = r.shape[0]
    rbar = (r.sum() - k) / (k * (k - 1))
    assert_allclose(cronbach_alpha(cronbach_long_wide).standardized_alpha,
                    k * rbar / (1 + (k - 1) * rbar), rtol=1e-12)


# --- composite -----------------------------------------------------------------------------
def test_entropy_weights_hand_computed():
    # Raw-sum normalisation. Column A (1, 3): p = (1/4, 3/4),
    # e = -(1/4 ln 1/4 + 3/4 ln 3/4)/ln 2 = 0.811278, d = 0.188722; column B (1, 1): e = 1,
    # d = 0; column C (0, 2): p = (0, 1), e = 0, d = 1. w = d / Σd.
    e_a = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(2)
    d = np.array([1 - e_a, 0.0, 1.0])
    assert_allclose(entropy_weights([[1, 1, 0], [3, 1, 2]]), d / d.sum(), rtol=1e-12)
    assert_allclose(entropy_weights([[1, 1, 0], [3, 1, 2]]), [0.158760, 0.0, 0.841240],
                    atol=5e-7)


def test_entropy_all_constant_raises():
    with pytest.raises(ValueError):
        entropy_weights([[1, 2], [1, 2]])


def test_composite_index_weights_and_nan_items():
    c = composite_index([80, np.nan, 70, 60], {"a": [0, 1], "b": [2, 3]},
                        dimension_weights=importance_weights([0.3, 0.1]), weights_method="imp")
    assert_allclose([d.index for d in c.dimensions], [80.0, 65.0])
    assert_allclose(c.overall, 0.75 * 80 + 0.25 * 65)


# --- drivers -------------------------------------------------------------------------------
def test_derived_importance_pairwise_deletion():
    x = np.array([[1, 2, 3, 4, 5, np.nan]]).T
    y = [2, 1, 4, 3, 5, 1]
    r = derived_importance(x, y)
    assert r.n_used == (5,)
    assert_allclose(r.coefficients[0], 0.8)  # Spearman of (1..5) vs (2,1,4,3,5): 1-6*4/120


@pytest.mark.parametrize(
    ("crosshair", "expected"),
    [
        ("mean", ["concentrate here", "possible overkill", "keep up the good work",
                  "low priority"]),
        ("median", ["concentrate here", "possible overkill", "keep up the good work",
                    "low priority"]),
        ("midpoint", ["keep up the good work", "possible overkill", "keep up the good work",
                      "possible overkill"]),
    ],
)
def test_ipa_crosshair_rules(crosshair, expected):
    r = importance_performance_quadrants([0.6, 0.2, 0.5, 0.1], [70, 90, 88, 60],
                                         ["a", "b", "c", "d"], crosshair=crosshair,
                                         importance_midpoint=0.3, performance_midpoint=50)
    assert [p.quadrant for p in r.points] == expected
    assert r.crosshair == crosshair


# --- comparisons ---------------------------------------------------------------------------
def test_mode_effects_within_strata():
    rng = np.random.default_rng(0)
    codes = rng.choice([1, 2, 3, 4, 5], size=400)
    modes = rng.choice(["web", "paper"], size=400)
    strata = np.repeat(["relocated", "rental"], 200)
    effects = mode_effects(codes, modes, strata)
    assert [e.stratum for e in effects] == ["relocated", "rental"]
    for e in effects:
        assert e.n_web + e.n_paper == 200
        assert -1 <= e.mann_whitney.rank_biserial <= 1
        assert e.chi_square.dof >= 1


# --- planning ------------------------------------------------------------------------------
def test_margin_of_error_inverts_sample_size():
    # n = 235 for N = 600 was chosen so that e <= 0.05; n = 234 must exceed it.
    assert margin_of_error(235, population=600).margin <= 0.05
    assert margin_of_error(234, population=600).margin > 0.05
    assert_allclose(margin_of_error(400).margin, 1.959963984540054 * math.sqrt(0.25 / 400))


def test_aapor_hand_computed():
    # I=400 P=20 R=50 NC=20 O=10 UH=100 UO=0 e=0.5 (AAPOR Standard Definitions formulas)
    r = aapor_rates(complete=400, partial=20, refusal=50, non_contact=20, other=10,
                    unknown_household=100, e=0.5)
    assert_allclose([r.rr1, r.rr3, r.coop1, r.ref1], [400 / 600, 400 / 550, 400 / 480, 50 / 600])


# --- indicator -----------------------------------------------------------------------------
def test_indicator_rules():
    assert indicator_score(0.93).points_earned == 10.0
    step = StepwiseRule(deduction_per_point=0.5, floor=6.0)
    assert_allclose(indicator_score(0.875, rule=step).points_earned, 10 - 0.5 * 2.5)
    whole = StepwiseRule(deduction_per_point=0.5, whole_points=True)
    assert_allclose(indicator_score(0.875, rule=whole).points_earned, 10 - 0.5 * 3)
    assert indicator_score(0.50, rule=step).points_earned == 6.0
    bands = BandRule(((0.90, 10), (0.85, 8), (0.80, 6)))
    assert [indicator_score(a, rule=bands).points_earned for a in (0.95, 0.86, 0.8, 0.7)] == [
        10.0, 8.0, 6.0, 0.0]
    idx = indicator_score(82.0, 85.0, 10, StepwiseRule(1.0), measure="index")
    assert_allclose(idx.points_earned, 7.0)


def test_indicator_probability_meets_target():
    r = indicator_score(0.88, 0.90, 10, se=0.02)
    assert_allclose(r.probability_meets_target, 0.15865525393145707)  # Φ(-1)
    assert indicator_score(0.9, se=0.01).probability_meets_target == 0.5


# --- comments ------------------------------------------------------------------------------
def test_comment_themes_counts_and_examples():
    comments = ["物业维修不及时", "维修太慢，停车位少", "停车位不够", None, "  ", "维修维修"]
    r = comment_themes(comments, top_n=3)
    assert (r.n_comments, r.n_empty) == (6, 2)
    top = r.themes[0]
    assert (top.term, top.comment_count, top.occurrences) == ("维修", 3, 4)
    assert top.examples[0] == "物业维修不及时"
    assert all(t.term not in {"，", "太", "不"} for t in r.themes)


def test_comment_themes_repeated_texts_count_each_time_examples_in_input_order():
    comments = ["停车位不够", "维修太慢", "停车位不够", "停车位不够", " 停车位不够 ", "维修太慢",
                "停车难", "停车位不够"]
    r = comment_themes(comments, top_n=5, examples_per_theme=3)
    themes = {t.term: t for t in r.themes}
    assert (themes["停车位"].comment_count, themes["停车位"].occurrences) == (5, 5)
    assert themes["停车位"].examples == ("停车位不够",) * 3
    assert (themes["维修"].comment_count, themes["维修"].examples) == (2, ("维修太慢",) * 2)
    assert themes["停车难"].examples == ("停车难",)
    assert [t.term for t in r.themes[:2]] == ["不够", "停车位"]  # equal counts: by term
    assert (r.n_comments, r.n_empty) == (8, 0)


def test_comment_themes_use_stored_tokens_as_they_are():
    # Tokens given for a comment replace its segmentation, an empty list included.
    comments = ["停车位不够", "维修太慢", "维修太慢"]
    r = comment_themes(comments, segmented={"停车位不够": [], "维修太慢": ["维修", "太慢"]})
    assert [(t.term, t.comment_count) for t in r.themes] == [("太慢", 2), ("维修", 2)]
    r = comment_themes(comments, segmented={"停车位不够": ["存储词", "停车位"]})
    assert {t.term for t in r.themes} >= {"存储词", "停车位", "维修"}


# --- campaign ------------------------------------------------------------------------------
def test_campaign_statistics_consistent_with_building_blocks():
    rng = np.random.default_rng(5)
    n = 500
    codes = rng.choice([1, 2, 3, 4, 5, 9], p=[.03, .05, .12, .35, .4, .05], size=(5, n))
    strata = np.where(np.arange(n) < 150, "relocated", "rental")
    pop = {"relocated": 600, "rental": 2500}
    s = campaign_statistics(codes, strata, pop, {"d1": [0, 1], "d2": [2, 3]}, 4,
                            n_resamples=500)
    for j, item in enumerate(s.items):
        direct = stratified_mean(
            {h: (codes[j][(strata == h) & (codes[j] != 9)] >= 4).astype(float) for h in pop},
            pop)
        assert_allclose(item.rate.estimate, direct.estimate, rtol=1e-12)
        assert_allclose(item.rate.se, direct.se, rtol=1e-10)
        assert item.rate_interval.low <= item.rate.estimate <= item.rate_interval.high
        assert item.summary == item_summary(codes[j])
    assert s.strata == ("relocated", "rental")
    assert_allclose(s.indicator.actual, s.items[4].rate.estimate)
    assert s.composite_interval.low < s.composite.overall < s.composite_interval.high


def test_campaign_statistics_without_intervals_and_drivers_skips_only_those():
    rng = np.random.default_rng(6)
    codes = rng.choice([1, 2, 3, 4, 5, 9], p=[.03, .05, .12, .35, .4, .05], size=(5, 400))
    strata = np.where(np.arange(400) < 150, "relocated", "rental")
    args = (codes, strata, {"relocated": 600, "rental": 2500}, {"d1": [0, 1], "d2": [2, 3]}, 4)
    full = campaign_statistics(*args, n_resamples=200)
    lean = campaign_statistics(*args, item_intervals=False, drivers=False)
    assert lean.drivers is None and lean.ipa is None
    assert all(it.rate_interval is None and it.index_interval is None for it in lean.items)
    for a, b in zip(full.items, lean.items, strict=True):
        assert (a.summary, a.rate, a.index) == (b.summary, b.rate, b.index)
    assert (lean.composite, lean.composite_se, lean.indicator) == \
        (full.composite, full.composite_se, full.indicator)


def test_composite_linearised_se_single_item_equals_stratified_se():
    # Without NA answers, a composite made of one item is that item's index, so the
    # Taylor-linearised SE must equal the exact stratified SE (with FPC).
    rng = np.random.default_rng(11)
    codes = rng.choice([1, 2, 3, 4, 5], size=(2, 300))
    strata = np.where(np.arange(300) < 100, "a", "b")
    s = campaign_statistics(codes, strata, {"a": 400, "b": 1000}, {"d": [0]}, 1,
                            n_resamples=200)
    assert_allclose(s.composite.overall, s.items[0].index.estimate, rtol=1e-12)
    assert_allclose(s.composite_se, s.items[0].index.se, rtol=1e-10)


@pytest.mark.slow
def test_composite_linearised_se_close_to_row_bootstrap():
    rng = np.random.default_rng(12)
    n = 400
    latent = rng.normal(size=n)
    codes = np.clip(np.round(4 + 0.8 * latent + rng.normal(scale=0.7, size=(4, n))), 1, 5)
    codes[rng.random((4, n)) < 0.05] = 9
    strata = np.where(np.arange(n) < 150, "a", "b")
    pop = {"a": 1e6, "b": 2e6}  # negligible FPC, as in the with-replacement bootstrap
    dims = {"x": [0, 1], "y": [2]}
    s = campaign_statistics(codes, strata, pop, dims, 3, n_resamples=200)
    reps = []
    for _ in range(300):
        idx = np.concatenate([rng.choice(np.flatnonzero(strata == h), (strata == h).sum())
                              for h in ("a", "b")])
        reps.append(campaign_statistics(codes[:, idx], strata[idx], pop, dims, 3,
                                        n_resamples=20, reliability=False).composite.overall)
    assert_allclose(s.composite_se, np.std(reps, ddof=1), rtol=0.15)


@pytest.mark.parametrize("code", [0.0, 6.0, 4.5, -3.0, 1e300, np.inf])
def test_campaign_rejects_codes_off_the_scale(code):
    codes = np.array([[5, 4, 3, code], [5, 5, 4, 3]])
    with pytest.raises(ValueError, match="outside 1..5"):
        campaign_statistics(codes, ["a"] * 4, {"a": 10}, {"d": [0]}, 1, n_resamples=20)


@pytest.mark.parametrize("na_code", [0, 9, 99])
def test_campaign_counts_the_na_code_given(na_code):
    codes = np.array([[5, 4, na_code, np.nan], [5, 5, 4, 3]])
    s = campaign_statistics(codes, ["a"] * 4, {"a": 10}, {"d": [0]}, 1, na_code=na_code,
                            n_resamples=20)
    summary = s.items[0].summary
    assert (summary.n_valid, summary.n_na, summary.n_missing) == (2, 1, 1)


def test_campaign_rejects_item_without_valid_answers():
    codes = np.array([[5, 4, 3, 4], [9, 9, 9, 9], [5, 5, 4, 3]])
    with pytest.raises(ValueError, match="Q2"):
        campaign_statistics(codes, ["a", "a", "b", "b"], {"a": 10, "b": 10}, {"d": [0, 1]}, 2)


def test_comment_themes_skip_words_of_time_and_frequency():
    """ux3: 以后/一直/几次 were counted as topics, so one complaint showed as two themes."""
    comments = ["反映问题以后很久才有人处理", "电梯一直坏，修了几次还是坏", "电梯几次维修都没修好"]
    terms = [t.term for t in comment_themes(comments, top_n=10).themes]
    assert "电梯" in terms
    assert not {"以后", "一直", "几次"} & set(terms)
