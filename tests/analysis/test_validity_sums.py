"""The scores document's validity (per dimension, all items, the overall item's R²) from
stored sums equals :func:`analysis.construct_validity` on the pooled response rows.

The sums are built here with plain numpy per cell in the stored layout (ListwiseSum: pair
rows item_a <= item_b and a header n per row set; the items' valid answers; the number of
responses), added over the cells, and read back with ``complete_row_sums_from_pairs``. The
row sets "valid:all" and "model" are chosen here from the pooled rows by the 50 % rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import analysis
from analysis.factor_ml import one_factor_ml
from analysis.reliability_sums import complete_row_sums_from_pairs
from analysis.validity_sums import construct_validity_from_sums, validity_row_sets

NA = 9.0
OVERALL = "overall"


def _codes(rng, n: int, k: int, *, missing: float, na: float) -> np.ndarray:
    trait = rng.normal(size=(n, 1))
    x = np.clip(np.rint(3 + trait + rng.normal(scale=0.9, size=(n, k))), 1, 5)
    x[rng.random((n, k)) < na] = NA
    x[rng.random((n, k)) < missing] = np.nan
    return x


def _layout(rng, n_dims: int) -> tuple[list[str], dict[str, list[str]]]:
    """Item ids (the overall item last) and dimensions of 1-4 items."""
    sizes = rng.integers(1, 5, size=n_dims)
    dims = {f"d{j}": [f"d{j}i{m}" for m in range(size)] for j, size in enumerate(sizes)}
    return [i for its in dims.values() for i in its] + [OVERALL], dims | {"o": [OVERALL]}


def _valid(codes: np.ndarray) -> np.ndarray:
    return (codes >= 1) & (codes <= 5)


def _row_set_pairs(codes: np.ndarray, column: dict, items) -> tuple[int, dict]:
    """One cell's ListwiseSum rows of a row set: header n, (a, b) -> (sum_a, sum_b, sum_ab)."""
    cols = [column[i] for i in items]
    full = codes[_valid(codes[:, cols]).all(axis=1)]
    ordered = sorted(items)
    pairs = {(a, b): (full[:, column[a]].sum(), full[:, column[b]].sum(),
                      (full[:, column[a]] * full[:, column[b]]).sum())
             for j, a in enumerate(ordered) for b in ordered[j:]}
    return len(full), pairs


def _row_set_items(codes, column, dims) -> dict[str, list[str]]:
    """The row sets, chosen from the pooled rows with plain numpy (the 50 % rule)."""
    valid = _valid(codes)
    share = valid.mean(axis=0)
    sets = {"dim:" + d: its for d, its in dims.items() if len(its) >= 2}
    scale = [i for d, its in dims.items() if d != "o" for i in its]
    sets["valid:all"] = sorted({i for i in scale if share[column[i]] >= 0.5})
    model = {OVERALL}
    for d, its in dims.items():
        if d != "o" and valid[:, [column[i] for i in its]].all(axis=1).mean() >= 0.5:
            model.update(its)
    sets["model"] = sorted(model)
    return sets


def _stored(codes: np.ndarray, cells: np.ndarray, items, dims) -> dict:
    """Pooled counts and row sets, added up from per-cell sums."""
    column = {item: j for j, item in enumerate(items)}
    sets = _row_set_items(codes, column, dims)
    row_sets = {}
    for key, set_items in sets.items():
        parts = [_row_set_pairs(codes[cells == c], column, set_items) for c in np.unique(cells)]
        pairs = {pair: tuple(sum(p[1][pair][i] for p in parts) for i in range(3))
                 for pair in parts[0][1]}
        row_sets[key] = complete_row_sums_from_pairs(set_items, sum(p[0] for p in parts),
                                                     pairs)
    valid_counts = dict(zip(items, _valid(codes).sum(axis=0).tolist(), strict=True))
    return {"n_responses": len(codes), "valid_counts": valid_counts, "row_sets": row_sets,
            "sets": sets}


def _assert_dimension_same(got, want) -> None:
    assert (got.name, got.items, got.n_used, got.reason, got.note) == (
        want.name, want.items, want.n_used, want.reason, want.note)
    for field in ("composite_reliability", "average_variance_extracted", "loadings",
                  "corrected_item_total"):
        a, b = getattr(got, field), getattr(want, field)
        assert (a is None) == (b is None), field
        if b is not None:
            assert_allclose(a, b, rtol=1e-12, err_msg=field)


def _assert_same(got, want) -> None:
    assert len(got.dimensions) == len(want.dimensions)
    for g, w in zip(got.dimensions, want.dimensions, strict=True):
        _assert_dimension_same(g, w)
    _assert_dimension_same(got.scale, want.scale)
    g, w = got.overall, want.overall
    assert (g.n_used, g.dimensions, g.left_out, g.note) == (
        w.n_used, w.dimensions, w.left_out, w.note)
    assert (g.r_squared is None) == (w.r_squared is None)
    if w.r_squared is not None:
        assert_allclose([g.r_squared, g.adjusted_r_squared],
                        [w.r_squared, w.adjusted_r_squared], rtol=1e-12)
    assert got.convention == want.convention


def _both(codes, cells, items, dims):
    stored = _stored(codes, cells, items, dims)
    want = analysis.construct_validity(codes, items, dims, OVERALL, na_code=NA)
    got = construct_validity_from_sums(stored["n_responses"], stored["valid_counts"], dims,
                                       OVERALL, stored["row_sets"], na_code=NA)
    return got, want, stored


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    items, dims = _layout(rng, int(rng.integers(1, 6)))
    n = int(rng.integers(8, 300))
    codes = _codes(rng, n, len(items), missing=rng.uniform(0, 0.2), na=rng.uniform(0, 0.1))
    # A conditional question: most responses leave it out (the 50 % rule drops it).
    if rng.random() < 0.5:
        codes[rng.random(n) < 0.7, int(rng.integers(0, len(items) - 1))] = np.nan
    return codes, rng.integers(0, 5, size=n), items, dims


@pytest.mark.parametrize("seed", range(40))
def test_random_matrices_match_the_rows(seed):
    got, want, _stored_sums = _both(*_random_case(seed))
    # The same correlation matrix to rounding gives the same ML fit (loadings included).
    _assert_same(got, want)


def test_the_random_cases_cover_the_outcomes():
    reasons, notes = set(), set()
    for seed in range(40):
        codes, _cells, items, dims = _random_case(seed)
        want = analysis.construct_validity(codes, items, dims, OVERALL, na_code=NA)
        reasons |= {d.reason for d in (*want.dimensions, want.scale)}
        notes.add(want.overall.note)
        if want.overall.left_out:
            notes.add("left_out")
    assert {None, "one_item", "two_items"} <= reasons
    assert {None, "left_out"} <= notes


def test_the_row_sets_chosen_are_those_of_the_rule():
    for seed in range(40):
        codes, cells, items, dims = _random_case(seed)
        stored = _stored(codes, cells, items, dims)
        rows = {d: stored["row_sets"]["dim:" + d].n if len(its) >= 2
                else stored["valid_counts"][its[0]] for d, its in dims.items()}
        assert validity_row_sets(len(codes), stored["valid_counts"], rows, dims,
                                 OVERALL) == {key: tuple(stored["sets"][key])
                                              for key in ("valid:all", "model")}


def _fixed(n: int = 80, seed: int = 50):
    rng = np.random.default_rng(seed)
    items = ["a1", "a2", "a3", "b1", "b2", "c1", OVERALL]
    dims = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2"], "c": ["c1"], "o": [OVERALL]}
    return rng, _codes(rng, n, len(items), missing=0.05, na=0.03), items, dims


def test_too_few_rows_and_no_variance():
    rng, codes, items, dims = _fixed()
    codes[4:, 2] = NA  # a3: four answers, so "a" has at most four complete rows
    codes[:, 3] = 4.0  # b1 constant
    got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert [d.reason for d in want.dimensions] == ["too_few_rows", "no_variance", "one_item"]
    assert want.scale.reason == "no_variance" and "a3" not in want.scale.items
    assert want.overall.left_out == ("a",)
    _assert_same(got, want)


def test_singular_and_collinear():
    rng, codes, items, dims = _fixed()
    codes[:, 2] = codes[:, 0]  # a3 = a1: the items' correlation matrix is singular
    codes[:, 5] = codes[:, 4]  # c1 = b2 where both answered
    codes[:, 3] = codes[:, 4]  # b1 = b2: score b = b2 = c1, collinear with c
    got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert want.dimensions[0].reason == "singular" and want.scale.reason == "singular"
    assert want.overall.note.startswith("the dimension scores are collinear")
    _assert_same(got, want)


def test_heywood_case():
    rng, codes, items, dims = _fixed(n=200, seed=51)
    codes[:, 1] = codes[:, 0]
    codes[:10, 1] = np.clip(codes[:10, 0] + 1, 1, 5)  # a2 almost a1
    got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert want.dimensions[0].reason == "heywood"
    _assert_same(got, want)


def test_overall_item_constant_and_no_dimension_scores():
    rng, codes, items, dims = _fixed()
    codes[:, 6] = 5.0
    got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert want.overall.note == "the overall item has no variance"
    _assert_same(got, want)
    codes[:, :6] = np.where(rng.random((len(codes), 6)) < 0.6, NA, codes[:, :6])
    got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert want.overall.note == "no dimension scores" and want.scale.reason == "no_items"
    assert want.overall.n_used == len(codes)
    _assert_same(got, want)


def test_too_few_rows_for_the_regression():
    rng, codes, items, dims = _fixed(n=12)
    codes[3:, 6] = np.nan  # three overall answers for three dimension scores
    got, want, _ = _both(codes, rng.integers(0, 2, size=len(codes)), items, dims)
    assert want.overall.note.endswith("too few for 3 dimensions")
    _assert_same(got, want)


def test_a_dimension_without_items():
    rng, codes, items, dims = _fixed()
    dims = {"none": [], **dims}
    with pytest.warns(RuntimeWarning):  # the rows: mean of an empty slice
        got, want, _ = _both(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    assert want.dimensions[0].reason == "no_items" and "none" in want.overall.left_out
    _assert_same(got, want)


def test_a_stale_or_missing_row_set_is_refused():
    rng, codes, items, dims = _fixed()
    stored = _stored(codes, rng.integers(0, 4, size=len(codes)), items, dims)
    row_sets = dict(stored["row_sets"])
    row_sets["model"] = row_sets["dim:a"]
    with pytest.raises(ValueError, match="row set 'model' holds"):
        construct_validity_from_sums(len(codes), stored["valid_counts"], dims, OVERALL,
                                     row_sets)
    del row_sets["dim:b"]
    with pytest.raises(ValueError, match="no row set 'dim:b'"):
        construct_validity_from_sums(len(codes), stored["valid_counts"], dims, OVERALL,
                                     row_sets)


def test_the_ml_fit_is_a_function_of_the_correlation_matrix():
    # L-BFGS-B alone stops about 1e-9 from the optimum, wherever its path ends; the Newton
    # polish reaches the optimum itself, so a matrix equal to rounding gives equal loadings.
    rng = np.random.default_rng(52)
    x = _codes(rng, 300, 6, missing=0.0, na=0.0)
    r = np.corrcoef(x, rowvar=False)
    noise = 1 + 4e-16 * rng.standard_normal((6, 6))
    nudged = r * (noise + noise.T) / 2
    np.fill_diagonal(nudged, 1.0)
    assert not np.array_equal(nudged, r)
    first, second = one_factor_ml(r), one_factor_ml(nudged)
    assert_allclose(second.loadings, first.loadings, rtol=1e-12)
    lam, psi = np.array(first.loadings), np.array(first.uniquenesses)
    assert not first.heywood and first.converged
    assert_allclose(lam**2 + psi, 1.0, rtol=1e-13)  # the stationarity equations hold
