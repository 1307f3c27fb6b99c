"""Derived importance from the joint tables of dimension score and overall code (the stored
DriverCount family) equals the row computation of the scores document."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import (
    campaign_statistics,
    composite_index,
    derived_importance,
    derived_importance_from_tables,
    importance_performance_quadrants,
)
from analysis.campaign import dimension_scores

# Dimensions of 1, 2, 3 and 6 items: 6 gives 26/6 next to the 13/3 of 3 items.
DIMENSIONS = {"one": [0], "two": [1, 2], "three": [3, 4, 5], "six": [6, 7, 8, 9, 10, 11]}
OVERALL = 12


def _random_codes(rng, n, *, na_share=0.1, missing_share=0.1):
    """Items x respondents codes 1..5, 9 (not applicable) and NaN (no answer)."""
    codes = rng.integers(1, 6, size=(OVERALL + 1, n)).astype(float)
    draw = rng.random(codes.shape)
    codes[draw < na_share] = 9
    codes[(draw >= na_share) & (draw < na_share + missing_share)] = np.nan
    return codes


def _valid(codes):
    return np.where((codes >= 1) & (codes <= 5), codes, np.nan)


def _driver_tables(codes, dimensions=DIMENSIONS):
    """The DriverCount rows of each dimension, counted with integer arithmetic."""
    valid = (codes >= 1) & (codes <= 5)
    ints = np.where(valid, codes, 0).astype(np.int64)
    overall_ok = valid[OVERALL]
    tables = []
    for items in dimensions.values():
        score_count = valid[items].sum(axis=0)
        score_sum = ints[items].sum(axis=0)
        kept = overall_ok & (score_count > 0)
        keys = np.column_stack((score_sum, score_count, ints[OVERALL]))[kept]
        if keys.size == 0:
            tables.append(np.empty((0, 4), dtype=np.int64))
            continue
        rows, n = np.unique(keys, axis=0, return_counts=True)
        tables.append(np.column_stack((rows, n)))
    return tables


def _row_importance(codes, dimensions=DIMENSIONS):
    valid = _valid(codes)
    composite = composite_index([50.0] * OVERALL, dimensions)
    return derived_importance(dimension_scores(valid[:OVERALL], composite), valid[OVERALL])


def _assert_same(tables_result, rows_result):
    assert tables_result.n_used == rows_result.n_used
    assert tables_result.method == rows_result.method
    assert tables_result.convention == rows_result.convention
    assert_allclose(tables_result.coefficients, rows_result.coefficients, rtol=1e-12,
                    equal_nan=True)
    assert_allclose(tables_result.p_values, rows_result.p_values, rtol=1e-12, atol=0,
                    equal_nan=True)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [3, 7, 40, 600])
def test_tables_equal_rows_on_random_answers(seed, n):
    rng = np.random.default_rng(seed)
    codes = _random_codes(rng, n, na_share=rng.uniform(0, 0.3), missing_share=rng.uniform(0, 0.3))
    _assert_same(derived_importance_from_tables(_driver_tables(codes)), _row_importance(codes))


def test_tables_equal_rows_with_correlated_answers():
    # A strong relation makes the ranks matter; a wrong tie or rank would show here.
    rng = np.random.default_rng(5)
    latent = rng.integers(1, 6, size=2000)
    codes = np.clip(latent + rng.integers(-1, 2, size=(OVERALL + 1, 2000)), 1, 5).astype(float)
    codes[rng.random(codes.shape) < 0.15] = 9
    result = derived_importance_from_tables(_driver_tables(codes))
    assert min(result.coefficients) > 0.5
    rows = _row_importance(codes)
    _assert_same(result, rows)
    # The rank moments are exact sums, so the numbers agree to the bit.
    assert result.coefficients == rows.coefficients and result.p_values == rows.p_values


def test_equal_rationals_tie_as_the_row_floats_do():
    # Dimension "six" scores 4 as 8/2, 12/3, 24/6 and 13/3 as 13/3 and 26/6.
    answers = [
        ([4, 4, np.nan, np.nan, np.nan, np.nan], 5),  # 8/2
        ([4, 4, 4, np.nan, np.nan, np.nan], 4),  # 12/3
        ([4, 4, 4, 4, 4, 4], 3),  # 24/6
        ([5, 4, 4, np.nan, np.nan, np.nan], 5),  # 13/3
        ([5, 5, 4, 4, 4, 4], 2),  # 26/6
        ([5, 4, 4, 5, 4, 4], 4),  # 26/6
        ([1, 2, np.nan, np.nan, np.nan, np.nan], 1),  # 3/2
    ]
    codes = np.full((OVERALL + 1, len(answers)), 3.0)
    for r, (six, overall) in enumerate(answers):
        codes[DIMENSIONS["six"], r] = six
        codes[OVERALL, r] = overall
    composite = composite_index([50.0] * OVERALL, DIMENSIONS)
    scores = dimension_scores(_valid(codes)[:OVERALL], composite)[:, 3]
    # The row computation's floats tie exactly where the rationals are equal.
    assert scores[0] == scores[1] == scores[2] == 4.0
    assert scores[3] == scores[4] == scores[5] == 13 / 3
    tables = _driver_tables(codes)
    assert len({tuple(r[:2]) for r in tables[3]}) == 6  # six distinct (sum, count) keys
    _assert_same(derived_importance_from_tables(tables), _row_importance(codes))


def test_rows_of_one_key_add_up_and_zero_rows_are_ignored():
    rng = np.random.default_rng(11)
    codes = _random_codes(rng, 300)
    tables = _driver_tables(codes)
    split = []
    for table in tables:
        # Each row as two rows (as from two cells) plus a row counting nobody.
        first = table.copy()
        first[:, 3] = table[:, 3] // 2
        second = table.copy()
        second[:, 3] = table[:, 3] - first[:, 3]
        nobody = np.array([[999, 1, 7, 0]])
        split.append(rng.permutation(np.vstack((second, nobody, first))))
    _assert_same(derived_importance_from_tables(split), _row_importance(codes))


DEGENERATE = {
    # (score_sum, score_count, overall) per respondent
    "perfect": [(1, 1, 1), (2, 1, 2), (3, 1, 3), (4, 1, 4), (5, 1, 5), (10, 2, 5)],
    "reversed": [(5, 1, 1), (8, 2, 2), (9, 3, 3), (2, 1, 5)],
    "constant score": [(8, 2, 1), (12, 3, 2), (4, 1, 5), (16, 4, 3)],
    "constant overall": [(1, 1, 4), (2, 1, 4), (3, 1, 4)],
    "two respondents": [(1, 1, 1), (5, 1, 5)],
    "nobody": [],
}


@pytest.mark.parametrize("case", DEGENERATE)
def test_perfect_and_degenerate_drivers(case):
    respondents = DEGENERATE[case]
    keys, n = (np.unique(respondents, axis=0, return_counts=True) if respondents
               else (np.empty((0, 3), dtype=int), np.empty(0, dtype=int)))
    result = derived_importance_from_tables([np.column_stack((keys, n))])
    rows = derived_importance([s / c for s, c, _ in respondents],
                              [o for _, _, o in respondents])
    assert result.n_used == rows.n_used == (len(respondents),)
    # Exactly equal here: ±1 gives p = 0, and the degenerate cases NaN on both sides.
    assert_allclose(result.coefficients, rows.coefficients, rtol=0, atol=0, equal_nan=True)
    assert_allclose(result.p_values, rows.p_values, rtol=0, atol=0, equal_nan=True)
    if case == "perfect":
        assert result.coefficients == (1.0,) and result.p_values == (0.0,)
    if case == "reversed":
        assert result.coefficients == (-1.0,)
    if case not in ("perfect", "reversed"):
        assert np.isnan(result.coefficients[0]) and np.isnan(result.p_values[0])


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="rows"):
        derived_importance_from_tables([[[1, 1, 1]]])
    with pytest.raises(ValueError, match="integers"):
        derived_importance_from_tables([[[1.5, 1, 1, 1]]])
    with pytest.raises(ValueError, match=">= 0"):
        derived_importance_from_tables([[[1, 1, 1, -1]]])
    with pytest.raises(ValueError, match="score counts"):
        derived_importance_from_tables([[[1, 0, 1, 2]]])


@pytest.mark.parametrize("crosshair", ["mean", "median", "midpoint"])
def test_campaign_drivers_and_ipa_from_tables(crosshair):
    # The document's driver section: campaign_statistics's importance and IPA, with the
    # dimension indices the document already has.
    rng = np.random.default_rng(3)
    n = 500
    codes = _random_codes(rng, n)
    strata = rng.choice(["a", "b"], size=n)
    stats = campaign_statistics(codes, strata, {"a": 2000, "b": 3000}, DIMENSIONS, OVERALL,
                                crosshair=crosshair, reliability=False, item_intervals=False)
    importance = derived_importance_from_tables(_driver_tables(codes))
    _assert_same(importance, stats.drivers)
    ipa = importance_performance_quadrants(
        importance.coefficients, [d.index for d in stats.dimensions],
        [d.name for d in stats.dimensions], crosshair=crosshair, importance_midpoint=0.5,
        performance_midpoint=50.0)
    assert [p.quadrant for p in ipa.points] == [p.quadrant for p in stats.ipa.points]
    assert [p.label for p in ipa.points] == [p.label for p in stats.ipa.points]
    assert_allclose([ipa.importance_cut, ipa.performance_cut],
                    [stats.ipa.importance_cut, stats.ipa.performance_cut], rtol=1e-12)
