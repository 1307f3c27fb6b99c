"""SEs of dimension indices and rates (year over year compares them, issue 18 item 2).

References: with no not-applicable answers a dimension's rate (index) is the stratified
mean of each respondent's share of satisfied answers (mean item index), so its SE is
``analysis.stratified_mean``'s (Cochran 1977, 5.9, with FPC) — a hand computation of a
different estimator form; with NA answers and a group without valid answers, the
dimension index of a one-dimension composite is that composite, whose SE is checked
against R's ``survey`` in ``test_composite_se.py``; under design weights without margins
the raked SEs are the design ones.
"""

import numpy as np
from numpy.testing import assert_allclose

from analysis import campaign_statistics, composite_index, raked_campaign_statistics
from analysis.campaign import linearised_composite_se
from analysis.linearisation import dimension_standard_errors
from analysis.response_table import response_table
from analysis.stratified import stratified_mean

RNG = np.random.default_rng(18)
CODES = RNG.choice([1, 2, 3, 4, 5], p=[.05, .1, .2, .35, .3], size=(3, 40))
STRATA = np.repeat(["a", "b"], [15, 25])
POP = {"a": 120, "b": 400}


def test_no_na_dimension_equals_stratified_mean_of_respondent_averages():
    table = response_table(CODES, STRATA, POP)
    comp = composite_index([50.0] * 3, {"d": [0, 1, 2]})
    index_se, rate_se = dimension_standard_errors(table, comp)[0]
    satisfied = (CODES >= 4).mean(axis=0)
    index = ((CODES - 1) * 25).mean(axis=0)
    by = {h: np.flatnonzero(h == STRATA) for h in POP}
    assert_allclose(rate_se, stratified_mean({h: satisfied[i] for h, i in by.items()},
                                             POP).se, rtol=1e-12)
    assert_allclose(index_se, stratified_mean({h: index[i] for h, i in by.items()},
                                              POP).se, rtol=1e-12)


def test_with_na_and_a_missing_group_the_dimension_is_the_composite():
    codes = CODES.astype(float).copy()
    codes[0, :15] = 9  # group a never answers item 0
    codes[1, ::7] = 9
    table = response_table(codes, STRATA, POP)
    items = [float(np.mean(25 * (codes[j][codes[j] < 9] - 1))) for j in range(3)]
    comp = composite_index(items, {"d": [0, 1, 2]})
    assert_allclose(dimension_standard_errors(table, comp)[0][0],
                    linearised_composite_se(table, comp), rtol=1e-12)


def test_campaign_statistics_carry_dimension_ses_and_raking_keeps_them_without_margins():
    codes = np.vstack([CODES, RNG.choice([1, 2, 3, 4, 5], size=(1, 40))])
    dims = {"two": [0, 1], "one": [2]}
    s = campaign_statistics(codes, STRATA, POP, dims, 3, item_intervals=False,
                            drivers=False, reliability=False)
    two, one = s.dimensions
    assert np.isfinite([two.index_se, two.rate_se]).all()
    assert (one.index_se, one.rate_se) == (s.items[2].index.se, s.items[2].rate.se)
    weights = np.where(STRATA == "a", 120 / 15, 400 / 25)
    raked = raked_campaign_statistics(s, codes, STRATA, POP, weights, overall_item=3)
    assert_allclose([d.index_se for d in raked.dimensions], [d.index_se for d in s.dimensions],
                    rtol=1e-9)
    assert_allclose([d.rate_se for d in raked.dimensions], [d.rate_se for d in s.dimensions],
                    rtol=1e-9)
