"""Alpha and inter-item correlations from per-cell pair sums added up equal
``analysis.cronbach_alpha`` (pairwise) and ``pairwise_covariance`` on the pooled raw rows.

Independent reference for the correlations: pandas ``DataFrame.corr`` (pairwise-complete
Pearson, each pair's variances over the rows both items share), alpha from pandas
``DataFrame.cov`` by α = k/(k−1)·(1 − Σ C_jj / Σ C_jl).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import analysis
from analysis.reliability import covariance_from_sums, pairwise_covariance


def _rows(seed: int = 3, n: int = 400, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n, 1))
    x = np.clip(np.rint(3 + trait + rng.normal(scale=0.8, size=(n, k))), 1, 5)
    x[rng.random((n, k)) < 0.15] = np.nan  # no answer / not applicable
    cells = rng.integers(0, 7, size=n)
    return x, cells


def _pooled(x: np.ndarray, cells: np.ndarray):
    parts = [analysis.pairwise_sums(x[cells == c]) for c in np.unique(cells)]
    return [sum(p[i] for p in parts) for i in range(4)]


def test_pooled_cell_sums_give_the_raw_rows_alpha_and_correlations():
    x, cells = _rows()
    sums = _pooled(x, cells)
    assert all(np.array_equal(s, np.rint(s)) for s in sums)  # integers: exact
    got = analysis.alpha_from_sums(*sums)
    want = analysis.cronbach_alpha(x, missing="pairwise")
    assert_allclose([got.alpha, got.standardized_alpha],
                    [want.alpha, want.standardized_alpha], rtol=1e-12)
    assert_allclose(got.correlation, pairwise_covariance(x)[1], rtol=1e-12)
    frame = pd.DataFrame(x)
    cov = frame.cov().to_numpy()
    k = x.shape[1]
    assert_allclose(got.alpha, k / (k - 1) * (1 - np.trace(cov) / cov.sum()), rtol=1e-12)
    assert_allclose(got.correlation, frame.corr().to_numpy(), rtol=1e-12)


def test_a_constructed_case_by_hand():
    # Two cells; item 2 missing in one row: N_01 = 4 shared rows of items 0 and 1.
    nan = float("nan")
    first = np.array([[1.0, 2.0, 2.0], [2.0, 3.0, 3.0], [3.0, nan, 4.0]])
    second = np.array([[4.0, 5.0, 5.0], [2.0, 2.0, 1.0]])
    sums = [a + b for a, b in zip(analysis.pairwise_sums(first),
                                  analysis.pairwise_sums(second), strict=True)]
    assert sums[0][0, 1] == 4 and sums[1][0, 1] == 9 and sums[1][1, 0] == 12
    both = np.vstack([first, second])
    got = analysis.alpha_from_sums(*sums)
    assert_allclose(got.alpha, analysis.cronbach_alpha(both).alpha, rtol=1e-12)
    # cov_01 over rows 0,1,3,4 by hand: x0 = 1,2,4,2 (mean 9/4), x1 = 2,3,5,2 (mean 3):
    # products of deviations 1.25, 0, 3.5, 0.25.
    assert_allclose(covariance_from_sums(*sums)[0][0, 1],
                    (1.25 + 0 + 3.5 + 0.25) / 3, rtol=1e-12)


def test_undefined_pairs_are_nan_and_one_item_is_refused():
    nan = float("nan")
    sums = analysis.pairwise_sums([[1.0, nan], [2.0, 3.0], [nan, 4.0]])  # N_01 = 1
    assert np.isnan(analysis.alpha_from_sums(*sums).alpha)
    with pytest.raises(ValueError):
        analysis.alpha_from_sums(*analysis.pairwise_sums([[1.0], [2.0]]))
