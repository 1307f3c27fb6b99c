"""The scores document's reliability (pairwise and listwise alpha, Feldt interval, n_used)
from stored sums equals :func:`analysis.cronbach_alpha` on the pooled response rows.

The sums are built here with plain numpy, per cell and in the stored layout (pair rows
item_a <= item_b, a header n, answered-item counts), then added over the cells; the
reference is the row computation as ``pooled_sections.reliability_section`` runs it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import analysis
from analysis.reliability_sums import (
    complete_row_sums,
    complete_row_sums_from_pairs,
    listwise_alpha_from_sums,
    pairwise_alpha_from_sums,
    responses_with_at_least,
)

NA = 9.0
MIN_ROWS = 3  # the service's "rows.sum() < 3" guard


def _codes(rng, n: int, k: int, *, missing: float = 0.1, na: float = 0.08) -> np.ndarray:
    """Correlated 1..5 codes with not-applicable (9) and no answer (NaN)."""
    trait = rng.normal(size=(n, 1))
    x = np.clip(np.rint(3 + trait + rng.normal(scale=0.9, size=(n, k))), 1, 5)
    x[rng.random((n, k)) < na] = NA
    x[rng.random((n, k)) < missing] = np.nan
    return x


def _cell_sums(codes: np.ndarray) -> dict:
    """One cell's stored sums: pair sums, answered-item counts, complete-row pair rows."""
    valid = (codes >= 1) & (codes <= 5)
    m = valid.astype(float)
    x = np.where(valid, codes, 0.0)
    k = codes.shape[1]
    usable = np.bincount(valid.sum(axis=1), minlength=k + 1)
    full = x[valid.all(axis=1)]
    names = [f"q{j}" for j in range(k)]
    pairs = {(names[a], names[b]): (full[:, a].sum(), full[:, b].sum(),
                                    (full[:, a] * full[:, b]).sum())
             for a in range(k) for b in range(a, k)}
    return {"N": m.T @ m, "S": x.T @ m, "P": x.T @ x, "Q": (x * x).T @ m,
            "usable": dict(enumerate(usable.tolist())), "n": len(full), "pairs": pairs}


def _pooled(codes: np.ndarray, cells: np.ndarray) -> dict:
    parts = [_cell_sums(codes[cells == c]) for c in np.unique(cells)]
    out = {key: sum(p[key] for p in parts) for key in ("N", "S", "P", "Q", "n")}
    out["usable"] = {u: sum(p["usable"].get(u, 0) for p in parts)
                     for u in range(codes.shape[1] + 1)}
    out["pairs"] = {pair: tuple(sum(p["pairs"][pair][i] for p in parts) for i in range(3))
                    for pair in parts[0]["pairs"]}
    return out


def _from_rows(codes: np.ndarray) -> dict:
    """As pooled_sections.reliability_section: None under three usable rows."""
    y = codes.copy()
    y[y == NA] = np.nan
    usable = (~np.isnan(y)).sum(axis=1)
    out = {}
    for policy in ("pairwise", "listwise"):
        rows = usable >= 2 if policy == "pairwise" else usable == y.shape[1]
        out[policy] = (None if rows.sum() < MIN_ROWS
                       else analysis.cronbach_alpha(y, missing=policy))
    return out


def _from_sums(sums: dict, k: int) -> dict:
    complete = complete_row_sums_from_pairs([f"q{j}" for j in range(k)], sums["n"],
                                            sums["pairs"])
    pairwise = (None if responses_with_at_least(sums["usable"], 2) < MIN_ROWS
                else pairwise_alpha_from_sums(sums["N"], sums["S"], sums["P"], sums["Q"],
                                              sums["usable"]))
    listwise = (None if complete.n < MIN_ROWS else listwise_alpha_from_sums(complete))
    return {"pairwise": pairwise, "listwise": listwise}


def _assert_same(got, want) -> None:
    assert (got is None) == (want is None)
    if want is None:
        return
    assert (got.n_used, got.n_items, got.missing, got.convention, got.confidence) == (
        want.n_used, want.n_items, want.missing, want.convention, want.confidence)
    assert_allclose([got.alpha, got.standardized_alpha, got.ci_low, got.ci_high],
                    [want.alpha, want.standardized_alpha, want.ci_low, want.ci_high],
                    rtol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_random_matrices_match_the_rows(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    n = int(rng.integers(5, 400))
    codes = _codes(rng, n, k, missing=rng.uniform(0, 0.25), na=rng.uniform(0, 0.15))
    cells = rng.integers(0, 6, size=n)
    sums = _pooled(codes, cells)
    want = _from_rows(codes)
    got = _from_sums(sums, k)
    assert want["pairwise"] is not None  # the draws keep the pairwise alpha defined
    for policy in ("pairwise", "listwise"):
        _assert_same(got[policy], want[policy])


def test_few_complete_rows_leave_listwise_undefined_as_the_rows_do():
    rng = np.random.default_rng(40)
    codes = _codes(rng, 30, 5, missing=0.0, na=0.0)
    codes[2:, 4] = np.nan  # only rows 0 and 1 complete
    codes[5:9, :3] = NA  # and four rows with fewer than two answers
    sums = _pooled(codes, rng.integers(0, 3, size=30))
    want, got = _from_rows(codes), _from_sums(sums, 5)
    assert want["listwise"] is None and got["listwise"] is None
    assert sums["n"] == 2
    _assert_same(got["pairwise"], want["pairwise"])
    assert got["pairwise"].n_used == 26


def test_too_few_usable_rows_leave_both_undefined():
    codes = np.array([[1, 2, np.nan], [3, 9, np.nan], [5, 5, 5], [np.nan, 9, 2]])
    sums = _pooled(codes, np.array([0, 1, 0, 1]))
    assert _from_rows(codes) == {"pairwise": None, "listwise": None}
    assert _from_sums(sums, 3) == {"pairwise": None, "listwise": None}
    assert responses_with_at_least(sums["usable"], 2) == 2 and sums["n"] == 1


def test_undefined_figures_are_nan_on_both_sides():
    # An item nobody answered validly: its pairs share no row, alpha is NaN either way; a
    # constant item: the standardised alpha is NaN (zero variance in the correlation).
    rng = np.random.default_rng(41)
    codes = _codes(rng, 60, 4, missing=0.05, na=0.0)
    codes[:, 1] = NA
    codes[:, 3] = 4.0
    sums = _pooled(codes, rng.integers(0, 4, size=60))
    want, got = _from_rows(codes), _from_sums(sums, 4)
    assert math.isnan(want["pairwise"].alpha) and want["listwise"] is None
    _assert_same(got["pairwise"], want["pairwise"])
    assert got["listwise"] is None
    codes[:, 1] = rng.integers(1, 6, size=60)
    sums = _pooled(codes, rng.integers(0, 4, size=60))
    want, got = _from_rows(codes), _from_sums(sums, 4)
    assert math.isnan(want["listwise"].standardized_alpha)
    for policy in ("pairwise", "listwise"):
        _assert_same(got[policy], want[policy])


def test_a_case_by_hand():
    nan = float("nan")
    rows = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, nan], [9, nan, 1]])
    sums = _pooled(rows, np.array([0, 0, 1, 1, 1, 0]))
    assert sums["usable"] == {0: 0, 1: 1, 2: 1, 3: 4} and sums["n"] == 4
    got = _from_sums(sums, 3)
    assert (got["pairwise"].n_used, got["listwise"].n_used) == (5, 4)
    # Listwise: the four complete rows' covariance, written out.
    full = rows[:4]
    cov = np.cov(full, rowvar=False)
    assert_allclose(got["listwise"].alpha, 1.5 * (1 - np.trace(cov) / cov.sum()), rtol=1e-12)


def test_stored_pair_rows_in_any_order_and_repeated_items():
    rng = np.random.default_rng(42)
    x = _codes(rng, 50, 3, na=0.0)
    sums = complete_row_sums(x, ["a", "b", "c"])
    pairs = {(a, b): (sums.sums[i], sums.sums[j], sums.cross[i, j])
             for i, a in enumerate("abc") for j, b in enumerate("abc") if a <= b}
    again = complete_row_sums_from_pairs(["c", "a", "b"], sums.n, pairs)
    assert_allclose(again.cross, sums.select(["c", "a", "b"]).cross)
    assert_allclose(again.sums, sums.sums[[2, 0, 1]])
    twice = sums.select(["a", "a", "b"])
    full = x[~np.isnan(x).any(axis=1)]
    assert_allclose(twice.covariance(), np.cov(full[:, [0, 0, 1]], rowvar=False),
                    rtol=1e-12)


def test_inconsistent_inputs_are_refused():
    n = np.ones((2, 2))
    with pytest.raises(ValueError, match="usable counts"):
        pairwise_alpha_from_sums(n, n, n, n, {3: 4})
    with pytest.raises(ValueError, match="at least 2"):
        pairwise_alpha_from_sums(n, n, n, n, {2: 1})
    one = complete_row_sums([[1.0, 2.0], [2.0, np.nan]])
    with pytest.raises(ValueError, match="fewer than two"):
        listwise_alpha_from_sums(one)
