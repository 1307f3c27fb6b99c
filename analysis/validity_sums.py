"""Construct validity of :func:`analysis.construct_validity` from stored sums instead of
response rows ("counts, not rows", issue 23 item 4).

Every figure there is listwise: a dimension's loadings, CR, AVE and item-total correlations
come from the covariance matrix of the responses complete on its items, the all-items model
from those complete on the items answered by enough respondents, and the overall item's R²
from the covariance of the dimension scores and the overall item over the responses complete
on the overall item and every item of the dimensions kept. So the sums needed are
:class:`~analysis.reliability_sums.CompleteRowSums` per row set (each dimension of two or
more items, "valid:all", "model"), each item's number of valid answers and the number of
responses:

* a dimension of one item needs only its item's number of valid answers (its n_used; no
  figure of it is defined), a dimension without items the number of responses;
* a dimension score is the mean of its items, so the scores' covariance is a block sum of
  the items' covariance: cov(s_d, s_e) = Σ_{i∈d, j∈e} C_ij / (k_d k_e), and the overall item
  is a dimension of one item;
* an item is constant on the rows exactly when its comoment n·Σx² − (Σx)² is zero.

The notes and reasons are those of the row computation (the same code decides them: the
shared steps of :mod:`analysis.validity`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.conventions import validity_convention
from analysis.reliability_sums import CompleteRowSums
from analysis.validity import (
    DimensionValidity,
    OverallExplained,
    Validity,
    _explained,
    _fitted,
    _too_few,
)

__all__ = ["construct_validity_from_sums", "validity_row_sets"]


def _share(count: int, n_responses: int) -> float:
    # As the rows' mean of a boolean column; no responses: nothing reaches a share.
    return count / n_responses if n_responses else float("nan")


def _dimensions(dimensions: Mapping[str, Sequence[str]], overall_item: str) -> dict:
    return {d: list(its) for d, its in dimensions.items() if overall_item not in its}


def _scale(dims: Mapping[str, list[str]], valid_counts: Mapping[str, int], n_responses: int,
           min_answered_share: float) -> list[str]:
    return [i for its in dims.values() for i in its
            if _share(valid_counts[i], n_responses) >= min_answered_share]


def _score_rows(items: Sequence[str], valid_counts: Mapping[str, int], n_responses: int,
                row_sets: Mapping[str, CompleteRowSums], key: str) -> int:
    """Responses complete on ``items`` (the responses with a dimension score)."""
    distinct = set(items)
    if not distinct:
        return n_responses
    if len(distinct) == 1:
        return int(valid_counts[items[0]])
    return _row_set(row_sets, key, distinct).n


def _kept(dims: Mapping[str, list[str]], valid_counts: Mapping[str, int], n_responses: int,
          row_sets: Mapping[str, CompleteRowSums], min_answered_share: float) -> list[bool]:
    # A dimension without items has no score (the rows' mean of no column is NaN).
    return [bool(its) and _share(_score_rows(its, valid_counts, n_responses, row_sets,
                                             "dim:" + d), n_responses) >= min_answered_share
            for d, its in dims.items()]


def validity_row_sets(n_responses: int, valid_counts: Mapping[str, int],
                      dimension_rows: Mapping[str, int],
                      dimensions: Mapping[str, Sequence[str]], overall_item: str, *,
                      min_answered_share: float = 0.5) -> dict[str, tuple[str, ...]]:
    """The items of the row sets "valid:all" and "model" (sorted, each once).

    Parameters
    ----------
    n_responses : int
        Counted responses.
    valid_counts : mapping of str to int
        Item -> responses with a valid (1..5) answer.
    dimension_rows : mapping of str to int
        Dimension -> responses valid on all its items (those with a dimension score).
    dimensions : mapping of str to sequence of str
        Dimension -> its items (the overall item's dimension is skipped).
    overall_item : str
    min_answered_share : float, default 0.5
        As :func:`analysis.construct_validity`.

    Returns
    -------
    dict
        "valid:all": the scale items answered by at least the share of responses; "model":
        the overall item and every item of the dimensions scored for at least that share.

    Examples
    --------
    >>> validity_row_sets(10, {"a": 9, "b": 4, "c": 8, "o": 10}, {"d1": 4, "d2": 8},
    ...                   {"d1": ["a", "b"], "d2": ["c"], "o": ["o"]}, "o")
    {'valid:all': ('a', 'c'), 'model': ('c', 'o')}
    """
    dims = _dimensions(dimensions, overall_item)
    scale = _scale(dims, valid_counts, n_responses, min_answered_share)
    model = {overall_item}
    for d, its in dims.items():
        if its and _share(dimension_rows[d], n_responses) >= min_answered_share:
            model.update(its)
    return {"valid:all": tuple(sorted(set(scale))), "model": tuple(sorted(model))}


def _row_set(row_sets: Mapping[str, CompleteRowSums], key: str,
             items: set[str]) -> CompleteRowSums:
    found = row_sets.get(key)
    if found is None:
        raise ValueError(f"no row set {key!r}")
    if set(found.items) != items:
        raise ValueError(f"row set {key!r} holds {sorted(found.items)}, not {sorted(items)}")
    return found


def _dimension(name: str, items: Sequence[str], valid_counts: Mapping[str, int],
               n_responses: int, row_sets: Mapping[str, CompleteRowSums],
               key: str) -> DimensionValidity:
    items = tuple(items)
    n = _score_rows(items, valid_counts, n_responses, row_sets, key)
    too_few = _too_few(name, items, n)
    if too_few is not None:
        return too_few
    sums = _row_set(row_sets, key, set(items)).select(items)
    return _fitted(name, items, n, sums.constant(), sums.covariance)


def _explained_from_sums(dims: Mapping[str, list[str]], kept: Sequence[bool],
                         overall_item: str, model: CompleteRowSums) -> OverallExplained:
    names = tuple(d for d, k in zip(dims, kept, strict=True) if k)
    scores = [dims[d] for d in names] + [[overall_item]]
    at = {item: j for j, item in enumerate(model.items)}
    # Integer indicator rows: the block sums of the exact comoments stay exact.
    blocks = np.zeros((len(scores), len(model.items)))
    for row, its in enumerate(scores):
        for item in its:
            blocks[row, at[item]] += 1
    sizes = np.array([len(its) for its in scores], dtype=float)
    comoments = blocks @ model.comoments() @ blocks.T

    def covariance() -> np.ndarray:
        return comoments / (np.outer(sizes, sizes) * (model.n * (model.n - 1)))

    left_out = tuple(d for d, k in zip(dims, kept, strict=True) if not k)
    fit = _explained(model.n, names, lambda: comoments[-1, -1] == 0, covariance)
    return OverallExplained(fit.r_squared, fit.adjusted_r_squared, fit.n_used,
                            fit.dimensions, left_out, fit.note)


def construct_validity_from_sums(n_responses: int, valid_counts: Mapping[str, int],
                                 dimensions: Mapping[str, Sequence[str]], overall_item: str,
                                 row_sets: Mapping[str, CompleteRowSums], *,
                                 na_code: float | None = 9,
                                 min_answered_share: float = 0.5) -> Validity:
    """:func:`analysis.construct_validity` from the responses' sums.

    Parameters
    ----------
    n_responses : int
        Counted responses.
    valid_counts : mapping of str to int
        Item -> responses with a valid answer (every item of ``dimensions``).
    dimensions : mapping of str to sequence of str
        Dimension id -> its item ids (the overall item's dimension is skipped).
    overall_item : str
        The overall-satisfaction item.
    row_sets : mapping of str to CompleteRowSums
        "dim:<d>" for each dimension with two or more items, "valid:all" (the items of
        :func:`validity_row_sets`; not needed with fewer than two) and "model" (likewise),
        each over the responses valid on every item of the set.
    na_code : float or None, default 9
        Named in the convention (the sums count valid answers only).
    min_answered_share : float, default 0.5
        As :func:`analysis.construct_validity`.

    Returns
    -------
    Validity
        Equal to :func:`analysis.construct_validity` on the responses.

    Examples
    --------
    >>> from analysis.reliability_sums import complete_row_sums
    >>> codes = np.array([[5, 4, 4, 5], [4, 4, 3, 4], [3, 2, 3, 3], [2, 2, 1, 2],
    ...                   [4, 5, 4, 4], [3, 3, 2, 3], [5, 5, 5, 9]], dtype=float)
    >>> codes[codes == 9] = np.nan
    >>> row_sets = {"dim:d1": complete_row_sums(codes[:, :2], ["a", "b"]),
    ...             "valid:all": complete_row_sums(codes[:, :3], ["a", "b", "c"]),
    ...             "model": complete_row_sums(codes, ["a", "b", "c", "all"])}
    >>> v = construct_validity_from_sums(7, {"a": 7, "b": 7, "c": 7, "all": 6},
    ...     {"d1": ["a", "b"], "d2": ["c"], "o": ["all"]}, "all", row_sets)
    >>> [d.note[:9] for d in v.dimensions], round(v.overall.r_squared, 3)
    (['two items', 'one item:'], 0.907)
    """
    dims = _dimensions(dimensions, overall_item)
    results = tuple(_dimension(d, its, valid_counts, n_responses, row_sets, "dim:" + d)
                    for d, its in dims.items())
    scale = _scale(dims, valid_counts, n_responses, min_answered_share)
    scale_result = _dimension("all", scale, valid_counts, n_responses, row_sets, "valid:all")
    kept = _kept(dims, valid_counts, n_responses, row_sets, min_answered_share)
    needed = {overall_item}.union(*(dims[d] for d, k in zip(dims, kept, strict=True) if k))
    explained = _explained_from_sums(dims, kept, overall_item,
                                     _row_set(row_sets, "model", needed))
    return Validity(results, scale_result, explained,
                    validity_convention(na_code, min_answered_share))
