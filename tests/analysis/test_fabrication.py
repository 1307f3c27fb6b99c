"""Fabrication indicators per worker (analysis/fabrication.py): reference values, a hand
enumeration of the permutation test, and the acceptance simulation of issue 20 item 5."""

import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis import chi_square_worker_vs_rest, fabrication_screen, holm_adjust, keying_pace
from analysis.fabrication import _chi2_vs_rest

NAN = np.nan


# --- chi-square of worker vs rest ---------------------------------------------------------
def test_chi_square_scipy_docstring_reference():
    # scipy.stats.chi2_contingency docstring: [[10, 10, 20], [20, 20, 20]] gives
    # 2.7777777777777777, p 0.24935220877729619, dof 2 (METHODS.md section 6).
    stat, dof, p = chi_square_worker_vs_rest([10, 10, 20], [20, 20, 20])
    assert dof == 2
    assert_allclose(stat, 2.7777777777777777, rtol=1e-12)
    assert_allclose(p, 0.24935220877729619, rtol=1e-12)


def test_chi_square_hand_computation():
    # worker [6, 2, 2], rest [2, 6, 2]: totals [8, 8, 4], N 20, n 10, so every expected
    # count is half the total: [4, 4, 2] in both rows. Terms: (6-4)²/4 + (2-4)²/4 + 0 in
    # each row, statistic 4.0. With 2 degrees of freedom the chi-square survival function
    # is exp(-x/2): p = exp(-2).
    stat, dof, p = chi_square_worker_vs_rest([6, 2, 2], [2, 6, 2])
    assert dof == 2
    assert_allclose(stat, 4.0, rtol=1e-12)
    assert_allclose(p, math.exp(-2.0), rtol=1e-12)


def test_empty_code_columns_are_left_out():
    # The 9 column nobody used does not add a degree of freedom.
    assert chi_square_worker_vs_rest([6, 2, 2, 0], [2, 6, 2, 0])[:2] == (4.0, 2)


def test_vectorised_statistic_equals_scipy_on_random_tables():
    rng = np.random.default_rng(7)
    worker = rng.integers(1, 40, size=(50, 6)).astype(float)
    rest = rng.integers(1, 200, size=(50, 6)).astype(float)
    for w, r in zip(worker, rest, strict=True):
        expected = stats.chi2_contingency(np.array([w, r]), correction=False).statistic
        assert_allclose(_chi2_vs_rest(w, w + r), expected, rtol=1e-10)


# --- Holm -----------------------------------------------------------------------------------
def test_holm_hand_computation():
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1: 0.03, 0.06, 0.04; running maximum 0.03, 0.06,
    # 0.06; capped at 1.
    assert_allclose(holm_adjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06], rtol=1e-12)
    assert_allclose(holm_adjust([0.5, 0.6]), [1.0, 1.0])


# --- descriptive indicators -------------------------------------------------------------------
def test_patterns_and_variance_by_hand():
    codes = np.array([
        [4, 4, 4, 9],      # straight line (9 ignored), duplicated by the next row
        [4, 4, 4, 9],
        [5, 5, NAN, NAN],  # only two scale answers: not a straight line
        [1, 2, 3, 4],
    ])
    screen = fabrication_screen(codes, ["w"] * 4)
    (worker,) = screen.workers
    assert worker.forms == 4
    assert_allclose(worker.straight_lining_share, 2 / 4)
    assert_allclose(worker.duplicate_pattern_share, 2 / 4)
    # scale codes 4,4,4,4,4,4,5,5,1,2,3,4: mean 40/12, ddof-1 variance below.
    scale = [4, 4, 4, 4, 4, 4, 5, 5, 1, 2, 3, 4]
    mean = sum(scale) / 12
    assert_allclose(worker.answer_variance, sum((x - mean) ** 2 for x in scale) / 11)
    assert worker.p_value is None and not worker.flagged  # one worker: nothing to compare


def test_distance_is_total_variation_of_code_shares():
    codes = np.array([[4, 4], [4, 5], [1, 2], [3, 9]])
    screen = fabrication_screen(codes, ["a", "a", "b", "b"], min_forms=1, permutations=9)
    a, b = screen.workers
    # a: 4 ¾, 5 ¼; b: 1, 2, 3, 9 a quarter each. Disjoint supports: distance 1.
    assert_allclose([a.distance, b.distance], [1.0, 1.0])


def test_workers_with_few_forms_are_described_not_tested():
    rng = np.random.default_rng(3)
    codes = rng.choice([1, 2, 3, 4, 5], size=(25, 5))
    screen = fabrication_screen(codes, ["a"] * 12 + ["b"] * 10 + ["c"] * 3, permutations=99)
    a, b, c = screen.workers
    assert c.forms == 3 and c.p_value is None and c.adjusted_p_value is None
    assert a.p_value is not None and b.p_value is not None
    assert "2 workers" in screen.convention


def test_same_seed_same_p_values():
    rng = np.random.default_rng(4)
    codes = rng.choice([1, 2, 3, 4, 5, 9], size=(60, 8))
    workers = np.repeat(["x", "y", "z"], 20).tolist()
    first = fabrication_screen(codes, workers, seed=11, permutations=199)
    again = fabrication_screen(codes, workers, seed=11, permutations=199)
    assert first == again


@pytest.mark.parametrize(("codes", "workers", "message"), [
    ([[1, 2], [3, 7]], ["a", "b"], "codes outside"),
    ([[1, 2], [3, 4]], ["a"], "one worker per form"),
    ([1, 2, 3], ["a", "b", "c"], "matrix"),
])
def test_invalid_input(codes, workers, message):
    with pytest.raises(ValueError, match=message):
        fabrication_screen(codes, workers)


# --- the permutation p-value against a full enumeration ----------------------------------------
def test_permutation_p_value_approaches_the_exact_enumeration():
    # 8 forms of 3 items, worker "a" keyed the first 4. The exact permutation p-value
    # enumerates all C(8, 4) = 70 ways to give 4 of the forms to "a" (written here with
    # itertools and scipy, independently of the module's shuffling code).
    codes = np.array([[4, 4, 4], [4, 4, 5], [4, 4, 4], [3, 4, 4],
                      [1, 2, 5], [5, 3, 2], [2, 4, 1], [5, 5, 3]], dtype=float)
    categories = [1, 2, 3, 4, 5]

    def statistic(rows):
        mine = np.array([(codes[list(rows)] == c).sum() for c in categories])
        rest = np.array([(codes == c).sum() for c in categories]) - mine
        keep = (mine + rest) > 0
        return stats.chi2_contingency(np.array([mine[keep], rest[keep]]),
                                      correction=False).statistic

    observed = statistic(range(4))
    splits = list(itertools.combinations(range(8), 4))
    exact = sum(statistic(s) >= observed - 1e-9 for s in splits) / len(splits)
    screen = fabrication_screen(codes, ["a"] * 4 + ["b"] * 4, min_forms=4,
                                permutations=40000, seed=5)
    a = screen.workers[0]
    assert_allclose(a.chi_square, observed, rtol=1e-10)
    assert_allclose(a.p_value, exact, atol=0.006)  # Monte Carlo SE ≈ 0.0013


# --- keying pace ----------------------------------------------------------------------------
def test_keying_pace_by_hand():
    # Entries (start, save) in seconds: (0, 100), (110, 200), (unknown, 260) in one sitting;
    # (5000, 5060) after a pause over 30 min. Durations 100, 90, 60: median 90. Sessions
    # 0..260 and 5000..5060: 320 s = 0.0889 h; 4 entries / 0.0889 h = 45 forms per hour.
    pace = keying_pace([0, 110, NAN, 5000], [100, 200, 260, 5060])
    assert (pace.entries, pace.timed, pace.sessions) == (4, 3, 2)
    assert_allclose(pace.median_seconds, 90.0)
    assert_allclose(pace.forms_per_hour, 4 / (320 / 3600))


def test_keying_pace_without_starts():
    pace = keying_pace([NAN], [100])
    assert pace.median_seconds is None and pace.forms_per_hour is None
    assert pace.sessions == 1


# --- the acceptance simulation (issue 20, item 5) ----------------------------------------------
WORKERS, FORMS, ITEMS = 10, 40, 12
CUTS = np.array([-2.2, -1.4, -0.5, 0.7])  # latent satisfaction -> codes 1..5


def simulate_campaign(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """10 workers x 40 forms of 12 rating items; worker 0 invents every answer.

    Honest forms come from an ordered model with a household effect (a satisfied household
    is satisfied on most items, so items correlate ≈ 0.55), item effects and 3 % 不清楚:
    about 2 % 1, 6 % 2, 21 % 3, 41 % 4, 27 % 5. The fabricator writes plausible forms
    around 满意: 4 with probability 0.76, 3 or 5 with 0.12 each, never 不清楚.
    """
    n = WORKERS * FORMS
    household = rng.normal(0.0, 1.0, size=(n, 1))
    item = rng.normal(0.0, 0.3, size=(1, ITEMS))
    latent = 0.8 * household + item + rng.normal(0.0, 0.7, size=(n, ITEMS))
    codes = 1.0 + (latent[..., None] > CUTS).sum(axis=-1)
    codes[rng.random((n, ITEMS)) < 0.03] = 9.0
    codes[:FORMS] = rng.choice([3.0, 4.0, 5.0], p=[0.12, 0.76, 0.12], size=(FORMS, ITEMS))
    return codes, np.repeat(np.arange(WORKERS), FORMS)


def flag_rates(runs: int) -> tuple[float, float]:
    """Share of runs flagging the fabricator; share of honest workers flagged."""
    fabricator, honest = 0, 0
    for run in range(runs):
        codes, workers = simulate_campaign(np.random.default_rng(20_000 + run))
        screen = fabrication_screen(codes, workers.tolist(), alpha=0.01, seed=run)
        flags = [w.flagged for w in screen.workers]
        fabricator += flags[0]
        honest += sum(flags[1:])
    return fabricator / runs, honest / (runs * (WORKERS - 1))


def test_fabricator_flagged_in_a_few_seeded_runs():
    fabricator, honest = flag_rates(10)
    assert fabricator >= 0.9 and honest <= 0.05


@pytest.mark.slow
def test_acceptance_200_runs():
    # Issue 20: over 200 seeded runs the fabricator is flagged at p < 0.01 (Holm-adjusted
    # over the 10 workers) in at least 90 % of runs and an honest worker in at most 5 %.
    fabricator, honest = flag_rates(200)
    assert fabricator >= 0.90
    assert honest <= 0.05
