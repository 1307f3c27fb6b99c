"""Roll-up, league table and funnel limits against independent computations.

Sources: the two-counties x two-groups roll-up is computed by hand below (numpy on the
raw 0/1 answers, Cochran 1977 eq. 5.6, not through analysis.rollup); the funnel limits are
p0 +- z sqrt(p0(1-p0)/n) with z from scipy.stats.norm (Spiegelhalter 2005); the rank
probability of two counties is Phi(d / sqrt(se1^2 + se2^2)) from scipy.stats.norm.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis import (
    RollupCell,
    funnel_limits,
    funnel_plot,
    league_table,
    region_rollup,
    stratified_mean,
    stratified_rollup,
)

# Two counties x two groups: N_ch roster households, and satisfied / valid answers.
STRATA = {  # (county, group): (N_ch, satisfied, valid)
    ("430902", "relocated"): (120, 40, 50),
    ("430902", "rental_subsidy"): (300, 60, 80),
    ("430922", "relocated"): (80, 30, 40),
    ("430922", "rental_subsidy"): (250, 50, 70),
}


def _hand_cells():
    """Each stratum's rate and SE with FPC from its raw 0/1 answers (numpy only)."""
    out = {}
    for key, (big_n, k, r) in STRATA.items():
        y = np.r_[np.ones(k), np.zeros(r - k)]
        out[key] = (big_n, r, y.mean(), np.sqrt((1 - r / big_n) * y.var(ddof=1) / r))
    return out


def _cells():
    return [RollupCell(c, g, big_n, r, p, se)
            for (c, g), (big_n, r, p, se) in _hand_cells().items()]


def test_two_counties_two_groups_by_hand():
    hand = _hand_cells()
    big_n = sum(v[0] for v in hand.values())  # 750
    weights = {key: v[0] / big_n for key, v in hand.items()}
    expected = sum(weights[key] * hand[key][2] for key in hand)
    expected_var = sum(weights[key] ** 2 * hand[key][3] ** 2 for key in hand)
    # the same by hand on the raw answers: sum_ch W^2 (1-f) s^2 / r
    raw_var = 0.0
    for key, (n_ch, k, r) in STRATA.items():
        p = k / r
        raw_var += (n_ch / big_n) ** 2 * (1 - r / n_ch) * (p * (1 - p) * r / (r - 1)) / r
    assert_allclose(expected_var, raw_var, rtol=1e-12)
    result = region_rollup(_cells())
    assert_allclose(result.total.estimate, expected, rtol=1e-12)
    assert_allclose(result.total.estimate, (120 * 0.8 + 300 * 0.75 + 80 * 0.75
                                            + 250 * 50 / 70) / 750, rtol=1e-12)
    assert_allclose(result.total.se, np.sqrt(raw_var), rtol=1e-12)
    assert result.total.population == 750 and result.total.respondents == 240
    # not the average of the county rates
    county_rates = [u.estimate for u in result.units]
    assert abs(np.mean(county_rates) - result.total.estimate) > 1e-3
    n_star = 1 / sum((n_ch / big_n) ** 2 * (1 - r / n_ch) / r
                     for n_ch, _k, r in STRATA.values())
    assert_allclose(result.total.effective_n, n_star, rtol=1e-12)


def test_county_equals_the_campaigns_stratified_rate():
    """A county's roll-up is its campaign's pooled stratified rate (analysis.stratified)."""
    values = {g: np.r_[np.ones(k), np.zeros(r - k)]
              for (c, g), (_n, k, r) in STRATA.items() if c == "430902"}
    pops = {g: n for (c, g), (n, _k, _r) in STRATA.items() if c == "430902"}
    campaign = stratified_mean(values, pops)
    county = region_rollup(_cells()).units[0]
    assert county.unit == "430902"
    assert_allclose([county.estimate, county.se], [campaign.estimate, campaign.se], rtol=1e-12)


def test_rate_interval_is_wilson_at_effective_n():
    total = region_rollup(_cells()).total
    z = stats.norm.ppf(0.975)
    n, p = total.effective_n, total.estimate
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert_allclose([total.interval.low, total.interval.high], [centre - half, centre + half],
                    rtol=1e-10)


def test_score_interval_is_normal():
    cells = [RollupCell("A", "g", 100, 40, 80.0, 2.0), RollupCell("B", "g", 300, 60, 70.0, 3.0)]
    total = stratified_rollup(cells, measure="score")
    se = np.sqrt(0.25**2 * 4 + 0.75**2 * 9)
    z = stats.norm.ppf(0.975)
    assert_allclose([total.estimate, total.se], [72.5, se], rtol=1e-12)
    assert_allclose([total.interval.low, total.interval.high], [72.5 - z * se, 72.5 + z * se])


def test_strata_without_answers_are_left_out_and_listed():
    cells = [*_cells(), RollupCell("430903", "relocated", 50, 0, float("nan"), float("nan"))]
    result = region_rollup(cells)
    assert [c.unit for c in result.left_out] == ["430903"]
    assert_allclose(result.total.estimate, region_rollup(_cells()).total.estimate)


@pytest.mark.parametrize("level", [0.95, 0.998])
@pytest.mark.parametrize(("target", "size"), [(0.8, 100), (0.9, 375), (0.5, 1000)])
def test_funnel_limits_against_the_normal_formula(target, size, level):
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * np.sqrt(target * (1 - target) / size)
    assert_allclose(funnel_limits(target, size, level), (target - half, target + half),
                    rtol=1e-12)


def test_funnel_z_values_are_3_09_at_998():
    assert_allclose(stats.norm.ppf(0.999), 3.090232306167813)
    f = funnel_plot(["A", "B", "C", "D"], [0.95, 0.87, 0.74, 0.80], [200, 150, 100, 50],
                    target=0.8)
    sd = np.sqrt(0.16 / np.array([200, 150, 100, 50]))
    assert_allclose([p.z for p in f.points], (np.array([0.95, 0.87, 0.74, 0.80]) - 0.8) / sd)
    assert [p.position for p in f.points] == ["high_998", "high_95", "within", "within"]


def test_funnel_clips_to_unit_interval_and_skips_censuses():
    low, high = funnel_limits(0.98, 5, 0.998)
    assert high == 1.0 and low < 0.98
    f = funnel_plot(["A", "B"], [0.9, 0.9], [float("inf"), 40], target=0.9)
    assert [p.unit for p in f.points] == ["B"]


def test_league_intervals_and_rank_probability():
    est, se = [0.85, 0.83, 0.70], [0.02, 0.015, 0.01]
    table = league_table(["A", "B", "C"], est, se, draws=20000)
    z = stats.norm.ppf(0.975)
    by = {r.unit: r for r in table.rows}
    assert [r.unit for r in table.rows] == ["A", "B", "C"]
    for unit, e, s in zip("ABC", est, se, strict=True):
        assert_allclose([by[unit].interval.low, by[unit].interval.high], [e - z * s, e + z * s])
    # C is last in every draw; A vs B: P(A first) = Phi(0.02 / sqrt(0.02^2 + 0.015^2))
    p_a = stats.norm.cdf(0.02 / np.hypot(0.02, 0.015))
    assert_allclose(by["A"].p_best, p_a, atol=0.01)  # Monte Carlo SE ~ 0.003
    assert (by["A"].rank_low, by["A"].rank_high) == (1, 2)
    assert (by["C"].rank, by["C"].rank_low, by["C"].rank_high) == (3, 3, 3)


def test_league_is_reproducible_and_ties_share_rank():
    a = league_table(["A", "B"], [0.8, 0.8], [0.0, 0.0])
    assert [(r.rank, r.rank_low, r.rank_high) for r in a.rows] == [(1, 1, 1), (1, 1, 1)]
    b1 = league_table(["A", "B", "C"], [0.8, 0.79, 0.78], [0.02, 0.02, 0.02])
    b2 = league_table(["A", "B", "C"], [0.8, 0.79, 0.78], [0.02, 0.02, 0.02])
    assert b1 == b2
    assert b1.rows[1].rank_low == 1 and b1.rows[1].rank_high == 3


def test_league_refuses_mismatched_input():
    with pytest.raises(ValueError):
        league_table(["A"], [0.8, 0.7], [0.1, 0.1])
