"""Every statistic against independent reference values (sources beside the numbers)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis import (
    ahp_weights,
    bootstrap_interval,
    chi_square_independence,
    cochran_sample_size,
    contacts_needed,
    cronbach_alpha,
    derived_importance,
    indicator_score,
    item_mode_effects,
    item_summary,
    kruskal_wallis,
    mann_whitney,
    mann_whitney_counts,
    stratified_mean,
    summary_from_counts,
    t_interval,
    wilson_interval,
)

# --- METHODS.md section 2 worked example -------------------------------------------------
# counts 120, 60, 15, 4, 1 for codes 5..1 plus 10 不清楚 (code 9); 210 questionnaires.
WORKED = [5] * 120 + [4] * 60 + [3] * 15 + [2] * 4 + [1] * 1 + [9] * 10


def test_worked_example_measures():
    s = item_summary(WORKED)  # METHODS.md section 2 worked example
    assert s.n_valid == 200 and s.n_na == 10 and s.n_total == 210
    assert_allclose(s.rate, 0.900, rtol=1e-12)
    assert_allclose(s.score, 89.4, rtol=1e-12)
    assert_allclose(s.mean, 4.47, rtol=1e-12)
    assert_allclose(s.index, 86.75, rtol=1e-12)
    assert_allclose(s.na_share, 10 / 210, rtol=1e-12)
    assert "N_valid" in s.convention


def test_worked_example_na_not_in_denominator():
    # METHODS.md: rate if 不清楚 were wrongly kept in the denominator = 0.857 (180/210).
    s = item_summary(WORKED)
    wrong = (s.counts[3] + s.counts[4]) / s.n_total
    assert_allclose(wrong, 0.857, atol=5e-4)
    assert not np.isclose(s.rate, wrong)


def test_worked_example_wilson():
    # METHODS.md worked example: Wilson 95 % CI (0.8506, 0.9343), printed to 4 decimals.
    ci = wilson_interval(180, 200)
    assert_allclose([ci.low, ci.high], [0.8506, 0.9343], atol=5e-5)


def test_missing_none_and_nan_excluded():
    s = item_summary([5, 4, None, float("nan"), 9, 3])
    assert (s.n_valid, s.n_na, s.n_missing) == (3, 1, 2)
    assert_allclose(s.rate, 2 / 3)


# --- Wilson: scipy test_morestats.py::test_ci_wilson_method (R 3.6.2 prop.test) -----------
@pytest.mark.parametrize(
    ("k", "n", "conf", "cc", "expected"),
    [
        (3, 10, 0.95, False, (0.1077913, 0.6032219)),
        (3, 10, 0.99, False, (0.07956632, 0.6799753)),
        (3, 10, 0.95, True, (0.08094782, 0.64632928)),
    ],
)
def test_wilson_against_r_prop_test(k, n, conf, cc, expected):
    ci = wilson_interval(k, n, conf, correction=cc)
    assert_allclose([ci.low, ci.high], expected, rtol=1e-6)


def test_wilson_boundaries_against_r():
    # scipy test_morestats.py (R prop.test): k = 0 upper 0.2775328; k = 10 lower 0.7224672.
    assert_allclose(wilson_interval(0, 10).high, 0.2775328, rtol=1e-6)
    assert wilson_interval(0, 10).low == 0.0
    assert_allclose(wilson_interval(10, 10).low, 0.7224672, rtol=1e-6)
    assert wilson_interval(10, 10).high == 1.0


# --- Bootstrap: scipy test_resampling.py::test_bootstrap_against_R (R boot, 1e6 resamples) --
BOOT_X = [10, 12, 12.5, 12.5, 13.9, 15, 21, 22, 23, 34, 50, 81, 89, 121, 134, 213]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("basic", (23.77, 79.12)),
        ("percentile", (28.86, 84.21)),
        ("bca", (32.31, 91.43)),
    ],
)
def test_bootstrap_against_r_boot(method, expected):
    # 200,000 resamples, seed 0: Monte-Carlo error well inside rtol 0.005 (~0.5 s).
    ci = bootstrap_interval(BOOT_X, method=method, n_resamples=200_000, seed=0)
    assert_allclose([ci.low, ci.high], expected, rtol=0.005)


def test_t_interval_against_scipy_reference():
    # scipy test_resampling.py::test_bootstrap_against_R comment: t interval (22.653616, 85.333884)
    ci = t_interval(BOOT_X)
    assert_allclose([ci.low, ci.high], [22.653616, 85.333884], rtol=1e-7)


# --- Stratified mean: R survey package, `fpc` example data -------------------------------
FPC_DATA = {1: [2.8, 4.1, 6.8, 6.8, 9.2], 2: [3.7, 6.6, 4.2]}
FPC_POP = {1: 15, 2: 12}


def test_stratified_mean_against_r_survey_fpc():
    # R survey: svymean(~x, svydesign(~0, strata=~stratid, weights=~weight, fpc=~Nh, data=fpc))
    # mean 5.4481, SE 0.616 (with fpc), 0.7413 (without fpc) — compared at printed precision.
    e = stratified_mean(FPC_DATA, FPC_POP)
    assert_allclose(e.estimate, 5.4481, atol=5e-5)
    assert_allclose(e.se, 0.616, atol=5e-4)
    assert_allclose(e.se_without_fpc, 0.7413, atol=5e-5)
    assert [s.design_weight for s in e.strata] == [3.0, 4.0]  # fpc data: weight 3 and 4
    e_nofpc = stratified_mean(FPC_DATA, FPC_POP, fpc=False)
    assert_allclose(e_nofpc.se, 0.7413, atol=5e-5)


# --- Mann-Whitney: scipy.stats.mannwhitneyu docstring -------------------------------------
def test_mann_whitney_against_scipy_docstring():
    x, y = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    exact = mann_whitney(x, y, method="exact")
    assert exact.u == 17
    assert_allclose(exact.p_value, 0.1111111111111111, rtol=1e-12)
    asym = mann_whitney(x, y, method="asymptotic")
    assert_allclose(asym.p_value, 0.11134688653314041, rtol=1e-12)
    assert_allclose(exact.rank_biserial, 2 * 17 / 20 - 1)


# --- Mann-Whitney from category counts: scipy.stats.mannwhitneyu on the expanded samples --
SCALE = np.arange(1, 6)


@pytest.mark.parametrize("x_counts, y_counts", [
    ([0, 1, 2, 5, 4], [1, 2, 3, 2, 1]),    # ties, asymptotic
    ([3, 0, 0, 0, 0], [2, 0, 0, 0, 0]),    # every value tied: p = 1
    ([1, 0, 1, 0, 0], [0, 1, 0, 0, 1]),    # no ties, 2 and 2 values: exact
    ([0, 0, 0, 0, 40], [30, 0, 0, 0, 0]),  # complete separation
    ([0, 0, 0, 1, 0], [0, 0, 0, 7, 0]),    # one category, n_x = 1
])
def test_mann_whitney_counts_against_scipy_cases(x_counts, y_counts):
    ref = stats.mannwhitneyu(np.repeat(SCALE, x_counts), np.repeat(SCALE, y_counts))
    r = mann_whitney_counts(x_counts, y_counts)
    assert r.u == ref.statistic
    assert_allclose(r.p_value, ref.pvalue, rtol=1e-12)
    assert_allclose(r.rank_biserial, 2 * ref.statistic / (sum(x_counts) * sum(y_counts)) - 1)


@pytest.mark.parametrize("seed", range(30))
def test_mann_whitney_counts_against_scipy_random(seed):
    rng = np.random.default_rng(seed)
    x = rng.multinomial(int(rng.integers(1, 400)), rng.dirichlet(np.ones(5)))
    y = rng.multinomial(int(rng.integers(1, 400)), rng.dirichlet(np.ones(5)))
    ref = stats.mannwhitneyu(np.repeat(SCALE, x), np.repeat(SCALE, y))
    r = mann_whitney_counts(x, y)
    assert r.u == ref.statistic
    assert_allclose(r.p_value, ref.pvalue, rtol=1e-12)


def test_item_mode_effects_against_scipy():
    rng = np.random.default_rng(21)
    n = 3000
    codes = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, np.nan],
                       p=[.05, .1, .2, .3, .25, .05, .05], size=(3, n))
    codes[2, :1500] = rng.choice([4.0, 5.0], size=1500)  # another distribution per stratum
    modes = rng.choice(["web", "paper", "phone"], p=[.6, .3, .1], size=n)
    strata = np.where(np.arange(n) < 1500, "relocated", "rental")
    effects = item_mode_effects(codes, modes, strata)
    for j, per_item in enumerate(effects):
        assert [e.stratum for e in per_item] == ["relocated", "rental"]
        for e in per_item:
            answered = (strata == e.stratum) & ~np.isnan(codes[j]) & (codes[j] != 9)
            web, paper = (codes[j][answered & (modes == m)] for m in ("web", "paper"))
            assert (e.n_web, e.n_paper) == (web.size, paper.size)
            ref = stats.mannwhitneyu(web, paper)
            assert e.mann_whitney.u == ref.statistic
            assert_allclose(e.mann_whitney.p_value, ref.pvalue, rtol=1e-12)
            table = np.array([[np.sum(web == c) for c in SCALE],
                              [np.sum(paper == c) for c in SCALE]])
            table = table[:, table.sum(axis=0) > 0]
            chi = stats.chi2_contingency(table, correction=False)
            assert e.chi_square.method == "Pearson chi-square"  # large counts: no merging
            assert_allclose(e.chi_square.statistic, chi.statistic, rtol=1e-12)
            assert_allclose(e.chi_square.p_value, chi.pvalue, rtol=1e-12)


# --- Spearman derived importance: scipy.stats.spearmanr, pairwise deletion -----------------
def test_derived_importance_against_scipy_spearman():
    rng = np.random.default_rng(8)
    n = 2000
    overall = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, np.nan], p=[.05, .1, .2, .3, .3, .05],
                         size=n)
    drivers = np.column_stack([
        np.clip(overall + rng.normal(scale=s, size=n), 1, 5).round(1) for s in (0.5, 1, 3)])
    drivers[rng.random(drivers.shape) < 0.1] = np.nan
    drivers[:, 2] = np.floor(drivers[:, 2])  # few distinct values: many ties
    r = derived_importance(drivers, overall)
    for j in range(3):
        ok = ~np.isnan(drivers[:, j]) & ~np.isnan(overall)
        ref = stats.spearmanr(drivers[ok, j], overall[ok])
        assert r.n_used[j] == ok.sum()
        assert_allclose(r.coefficients[j], ref.statistic, rtol=1e-12)
        assert_allclose(r.p_values[j], ref.pvalue, rtol=1e-12)


# --- Kruskal-Wallis: scipy.stats.kruskal docstring ----------------------------------------
def test_kruskal_against_scipy_docstring():
    r = kruskal_wallis([1, 3, 5, 7, 9], [2, 4, 6, 8, 10])
    assert_allclose(r.h, 0.2727272727272734, rtol=1e-12)
    assert_allclose(r.p_value, 0.6015081344405895, rtol=1e-12)
    r = kruskal_wallis([1, 1, 1], [2, 2, 2], [2, 2])
    assert_allclose(r.h, 7.0, rtol=1e-12)
    assert_allclose(r.p_value, 0.0301973834223185, rtol=1e-12)
    assert_allclose(r.epsilon_squared, 7.0 / (8 - 1))  # Tomczak & Tomczak (2014)


# --- Chi-square: scipy.stats.chi2_contingency docstring -----------------------------------
def test_chi_square_against_scipy_docstring():
    r = chi_square_independence([[10, 10, 20], [20, 20, 20]])
    assert_allclose(r.statistic, 2.7777777777777777, rtol=1e-12)
    assert_allclose(r.p_value, 0.24935220877729619, rtol=1e-12)
    assert r.dof == 2 and not r.flagged


def test_chi_square_small_expected_2x2_uses_fisher():
    # scipy.stats.fisher_exact docstring: [[6, 2], [1, 4]] two-sided p 0.10256410256410257
    r = chi_square_independence([[6, 2], [1, 4]])
    assert r.method.startswith("Fisher")
    assert_allclose(r.p_value, 0.10256410256410257, rtol=1e-12)


def test_chi_square_small_expected_merge_and_flag():
    table = [[1, 2, 10, 30, 40], [0, 3, 12, 25, 45]]
    merged = chi_square_independence(table, small_expected="merge")
    assert "merging" in merged.method
    assert min(min(row) for row in merged.expected) >= 5
    flagged = chi_square_independence(table, small_expected="flag")
    assert flagged.flagged and flagged.small_expected_cells > 0


# --- AHP: Saaty's drinks matrix (AHPy README) ---------------------------------------------
DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]


def test_ahp_drinks_against_ahpy_readme():
    # AHPy README: coffee .177, wine .019, tea .042, beer .116, soda .190, milk .129,
    # water .327; lambda max 7.17663; CR 0.022 with Saaty's RI 1.35 (n = 7).
    r = ahp_weights(DRINKS)
    assert_allclose(r.weights, [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327], atol=5e-4)
    assert_allclose(r.lambda_max, 7.17663, atol=5e-6)
    assert_allclose(r.consistency_ratio, 0.022, atol=5e-4)
    assert r.random_index == 1.35


def test_ahp_random_index_table_selectable():
    r = ahp_weights(DRINKS, random_index="saaty1980")
    assert r.random_index == 1.32
    assert_allclose(r.consistency_ratio, r.consistency_index / 1.32)


# --- Cronbach's alpha: pingouin cronbach_alpha docstring ----------------------------------
def test_cronbach_alpha_long_dataset(cronbach_long_wide):
    # pingouin docstring, dataset `cronbach_alpha`: 0.5917188485995826, CI (0.195, 0.84)
    r = cronbach_alpha(cronbach_long_wide)
    assert_allclose(r.alpha, 0.5917188485995826, rtol=1e-12)
    assert_allclose([r.ci_low, r.ci_high], [0.195, 0.840], atol=5e-4)
    assert r.n_used == 15 and r.n_items == 10


def test_cronbach_alpha_pairwise(cronbach_wide_missing):
    # pingouin docstring, dataset `cronbach_wide_missing`: 0.732660835214447, CI (0.435, 0.909)
    r = cronbach_alpha(cronbach_wide_missing, missing="pairwise")
    assert_allclose(r.alpha, 0.732660835214447, rtol=1e-12)
    assert_allclose([r.ci_low, r.ci_high], [0.435, 0.909], atol=5e-4)
    assert r.n_used == 12


def test_cronbach_alpha_listwise_feldt_uses_n_after_deletion(cronbach_wide_missing):
    # pingouin docstring listwise: 0.8016949152542373. pingouin's CI (0.581, 0.933) uses the
    # 12 rows before deletion; METHODS.md: with the 9 complete rows Feldt gives (0.533, 0.947).
    r = cronbach_alpha(cronbach_wide_missing, missing="listwise")
    assert_allclose(r.alpha, 0.8016949152542373, rtol=1e-12)
    assert r.n_used == 9
    assert_allclose([r.ci_low, r.ci_high], [0.533, 0.947], atol=5e-4)


# --- Cochran sample size: METHODS.md section 3 --------------------------------------------
def test_cochran_sample_sizes():
    assert_allclose(cochran_sample_size(600).n0, 384.146, atol=5e-4)  # METHODS.md
    assert cochran_sample_size(600).n == 235  # METHODS.md
    assert cochran_sample_size(2500).n == 334  # METHODS.md
    assert cochran_sample_size(2500, fpc_formula="simple").n == 333  # METHODS.md variant
    assert contacts_needed(235, 0.5) == 470
    assert contacts_needed(334, 0.8) == 418  # ceil(417.5)


# --- Indicator score: METHODS.md section 5 ------------------------------------------------
def test_indicator_proportional_example():
    # points 10, target 0.90, actual 0.88 -> 9.78 (METHODS.md, printed to 2 decimals)
    r = indicator_score(0.88, 0.90, 10)
    assert_allclose(r.points_earned, 10 * 0.88 / 0.90, rtol=1e-12)
    assert_allclose(r.points_earned, 9.78, atol=5e-3)


def test_summary_from_counts_equals_item_summary():
    a = summary_from_counts([1, 4, 15, 60, 120], n_na=10)
    b = item_summary(WORKED)
    assert a == b
