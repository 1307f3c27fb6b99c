"""Raked rate and index means of answer codes, and their variances, from per-cell sums.

Within a raked design the weights are constant per *raking cell*: the respondents of one
stratum with the same category in every raking margin (and the same weight). The raked
ratio means of a 1..5 item (:func:`analysis.raking.raked_means` of its 0/1 rate and 0..100
index rows) and their linearised variances (:func:`analysis.raking.calibrated_variance`:
R survey's ten sweeps of the influence values by the margins, then the stratified variance)
only need sums over respondents of quantities that depend on (raking cell, answer code)
alone. So each item's answers are counted once per (cell, code) and the rest is arithmetic
on items × cells × 6 tables. Linear combinations of items (the composite index, the
dimensions) mix items in their squared influence values: :func:`combination_variances`
makes one pass over the respondents for them, by looking their swept influence values up
in those tables.

The numbers are :func:`analysis.raking.raked_means`' and
:func:`analysis.raking.calibrated_variance`'s up to the order of summation (last digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.raked_design import indicator_matrix, stratified_variances, sweep_adjustments
from analysis.raking import RatioTotals, ratio_estimates, with_ses
from analysis.response_table import stratum_codes
from analysis.stratified import StratifiedEstimate

__all__ = ["RakedCells", "cell_point_means", "cell_ratio_means", "combination_variances"]

#: Slot 0: no valid answer (missing, NA, out of range); slots 1..5: the answer code.
_SLOTS = 6
#: Rate (satisfied: 4 or 5) and index (0, 25, ..., 100) of each slot; slot 0 never counts.
_RATE = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
_INDEX = np.array([0.0, 0.0, 25.0, 50.0, 75.0, 100.0])


@dataclass(frozen=True, slots=True)
class RakedCells:
    """The respondents of a raked design grouped into raking cells, with every item's
    answers counted per (cell, code); build it once per cell of a document
    (:meth:`of`)."""

    # items × n: flat index of (item, cell, slot) into items × G × 6 (None: built from
    # counts, :meth:`of_counts`, without the respondents)
    keys: np.ndarray | None
    counts: np.ndarray  # items × G × 6 respondents
    weights: np.ndarray  # G: each cell's weight
    strata: np.ndarray  # G: each cell's stratum
    respondent_strata: np.ndarray | None  # n × H indicator of the respondents' strata
    respondent_weights: np.ndarray | None  # n
    populations: np.ndarray  # H: N_h
    respondents: np.ndarray  # H: r_h
    strata_onehot: np.ndarray  # G × H
    margin_onehots: tuple[np.ndarray, ...]  # G × k_m
    margin_counts: tuple[np.ndarray, ...]  # k_m respondents (at least 1)
    cross: tuple[tuple[np.ndarray, ...], ...]  # cross[m][k]: k_m × k_k respondents

    @classmethod
    def of(cls, codes, weights, strata, populations, margins=(), *,
           na_code: int = 9) -> RakedCells:
        """The cells of :func:`analysis.raking.calibrated_variance`'s design and the
        counts of ``codes`` (items × n, whole 1..5 valid; NaN, ``na_code`` or any other
        value: no valid answer).

        Examples
        --------
        >>> c = RakedCells.of([[5, 4, 9, 1]], [10.0] * 4, [0, 0, 1, 1], [20, 20], [[0, 1, 0, 1]])
        >>> c.weights.tolist(), c.counts[0].tolist()
        ([10.0, 10.0, 10.0, 10.0], [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]])
        """  # noqa: E501 (a doctest's output line)
        w = np.asarray(weights, dtype=float)
        h = np.asarray(strata, dtype=np.int64)
        pop = np.asarray(populations, dtype=float)
        cats = [np.asarray(m, dtype=np.int64) for m in margins]
        sizes = [int(c.max(initial=-1)) + 1 for c in cats]
        cell = _cells(h, cats, sizes, w)
        n_cells = int(cell.max(initial=-1)) + 1
        per_cell = np.bincount(cell, minlength=n_cells).astype(float)
        keys, counts = _counts(codes, cell, n_cells, na_code)
        cell_w, cell_h = np.zeros(n_cells), np.zeros(n_cells, dtype=np.int64)
        cell_w[cell], cell_h[cell] = w, h
        onehots = []
        for c, k in zip(cats, sizes, strict=True):
            of_cell = np.zeros(n_cells, dtype=np.int64)
            of_cell[cell] = c
            onehots.append(indicator_matrix(of_cell, k))
        return cls(
            keys, counts, cell_w, cell_h, indicator_matrix(h, pop.size), w, pop,
            np.bincount(h, minlength=pop.size).astype(float),
            indicator_matrix(cell_h, pop.size), tuple(onehots),
            tuple(np.maximum(per_cell @ o, 1) for o in onehots),
            tuple(tuple(om.T @ (per_cell[:, None] * ok) for ok in onehots) for om in onehots))


    @classmethod
    def of_counts(cls, counts, respondents, weights, strata, populations,
                  margins=()) -> RakedCells:
        """The cells given by their counts: what :meth:`of` builds from the respondents,
        without the per-respondent look-up keys (their combinations' variances:
        :func:`analysis.raked_sums.pair_combination_variances`).

        Parameters
        ----------
        counts : array_like, shape (items, G, 5) or (items, G, 7)
            Respondents per item, raking cell and code 1..5 (then, optionally, NA and
            missing: checked to add up to ``respondents``).
        respondents : array_like, shape (G,)
            Respondents per cell (with or without a valid answer).
        weights, strata : array_like, shape (G,)
            Each cell's weight and stratum 0..H-1.
        populations : array_like, shape (H,)
            N_h.
        margins : sequence of array_like of int, shape (G,)
            Each cell's category in every raking margin.

        Examples
        --------
        >>> c = RakedCells.of_counts([[[0, 0, 0, 1, 1], [1, 0, 0, 0, 0]]], [2, 2],
        ...                          [10.0, 10.0], [0, 1], [20, 20], [[0, 1]])
        >>> c.counts[0].tolist(), c.margin_counts[0].tolist()
        ([[0, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0]], [2.0, 2.0])
        """
        n = np.asarray(respondents, dtype=float)
        by_code = np.asarray(counts, dtype=np.int64)
        valid = by_code[:, :, :5]
        if by_code.shape[2] == 7 and not np.array_equal(by_code.sum(axis=2),
                                                        np.broadcast_to(n, valid.shape[:2])):
            raise ValueError("each item's counts must add up to the cell's respondents")
        slots = np.concatenate([(n - valid.sum(axis=2))[:, :, None].astype(np.int64), valid],
                               axis=2)
        if by_code.shape[2] not in (5, 7) or np.any(slots < 0):
            raise ValueError("counts: codes 1..5 (and NA, missing) of at most the respondents")
        w = np.asarray(weights, dtype=float)
        h = np.asarray(strata, dtype=np.int64)
        pop = np.asarray(populations, dtype=float)
        onehots = tuple(indicator_matrix(c, int(c.max(initial=-1)) + 1)
                        for c in (np.asarray(m, dtype=np.int64) for m in margins))
        return cls(
            None, slots, w, h, None, None, pop, np.bincount(h, weights=n, minlength=pop.size),
            indicator_matrix(h, pop.size), onehots,
            tuple(np.maximum(n @ o, 1) for o in onehots),
            tuple(tuple(om.T @ (n[:, None] * ok) for ok in onehots) for om in onehots))


def _cells(h: np.ndarray, cats: list[np.ndarray], sizes: list[int],
           w: np.ndarray) -> np.ndarray:
    """Each respondent's raking cell 0..G-1: stratum × margin categories, split further by
    weight where the weights are not constant in a cell (trimming never does that)."""
    key = h.copy()
    for c, k in zip(cats, sizes, strict=True):
        key *= k
        key += c
    cell = stratum_codes(key)[1]
    first = np.zeros(int(cell.max(initial=-1)) + 1)
    first[cell] = w
    if np.array_equal(first[cell], w):
        return cell
    return np.unique(np.stack([cell.astype(float), w]), axis=1, return_inverse=True)[1]


def _counts(codes, cell: np.ndarray, n_cells: int,
            na_code: int) -> tuple[np.ndarray, np.ndarray]:
    """Every answer's flat (item, cell, slot) index, and the respondents per index."""
    c = np.asarray(codes, dtype=float)
    c = c.reshape(1, -1) if c.ndim == 1 else c
    n_items = c.shape[0]
    slot = np.where((c >= 1) & (c <= 5) & (c != na_code), c, 0.0)
    slot += (cell * _SLOTS).astype(float)
    slot += (np.arange(n_items) * (n_cells * _SLOTS)).astype(float)[:, None]
    keys = slot.astype(np.intp)
    counts = np.bincount(keys.ravel(), minlength=n_items * n_cells * _SLOTS)
    return keys, counts.reshape(n_items, n_cells, _SLOTS)


@dataclass(frozen=True, slots=True)
class SweptTables:
    """Per row (every item's rate, then its index) and (cell, slot): the swept influence
    value x = u − A of a respondent there (before the weight), and per cell Σ x."""

    values: np.ndarray  # rows × G × 6
    sums: np.ndarray  # rows × G


def cell_ratio_means(cells: RakedCells, labels, measures=None
                     ) -> tuple[tuple[StratifiedEstimate, ...], SweptTables]:
    """The raked ratio means of every item's rate, then of every item's index, with
    their linearised SEs under the raking margins.

    Parameters
    ----------
    cells : RakedCells
        :meth:`RakedCells.of` the items' codes, weights, strata, N_h and margins.
    labels : sequence
        Stratum labels (H).
    measures : sequence of str, optional
        A name per row (2 × items) for the convention texts.

    Returns
    -------
    (tuple of StratifiedEstimate, SweptTables)
        The estimates as :func:`analysis.raking.raked_means` gives them for the rows
        0/1 satisfied (NaN where not valid) and (code − 1) × 25, and the swept influence
        tables for :func:`combination_variances`.

    Notes
    -----
    With t_v,h, t_y,h, n_h and Σ w² the per-stratum sums over (cell, code) of counts
    times w_c, w_c y_k, 1 and w_c²; u(c, k) = W_h (y_k − m_h)/t_v,h; the ten sweeps on
    the margins' sums of S_c = Σ_{i∈c} u_i give A_c; x(c, k) = u(c, k) − A_c, and
    Var = Σ_h (1 − r_h/N_h) r_h/(r_h − 1) (s2_h − s1_h²/r_h) with
    s1_h = Σ_{c∈h} w_c Σ_k n_ck x(c, k), s2_h = Σ_{c∈h} w_c² Σ_k n_ck x(c, k)².

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3; survey package, ``svyrecvar``.

    Examples
    --------
    >>> c = RakedCells.of([[5, 4, 2, 1]], [10.0] * 4, [0, 0, 0, 0], [40])
    >>> es, _x = cell_ratio_means(c, ["a"])
    >>> [round(e.estimate, 4) for e in es], round(es[0].se, 4)
    ([0.5, 50.0], 0.2739)
    """
    n_items = cells.counts.shape[0]
    counts = np.concatenate([cells.counts, cells.counts]).astype(float)
    slot_values = np.repeat(np.stack([_RATE, _INDEX]), n_items, axis=0)  # rows × 6
    totals, dev = _totals(cells, counts, slot_values)
    per_weight = totals.per_weight
    u = per_weight[:, cells.strata, None] * dev  # rows × G × 6
    values = u - _sweeps(cells, (counts * u).sum(axis=2))[:, :, None]
    tables = SweptTables(values, (counts * values).sum(axis=2))
    var = _variances(cells, tables.sums, (counts * values * values).sum(axis=2))
    return with_ses(ratio_estimates(labels, cells.populations, totals), *var,
                    measures), tables


def cell_point_means(cells: RakedCells) -> np.ndarray:
    """The estimates of :func:`cell_ratio_means`, bit for bit, without their SEs (every
    item's rate, then its index).

    Examples
    --------
    >>> c = RakedCells.of_counts([[[1, 1, 0, 1, 1]]], [5], [10.0], [0], [50])
    >>> cell_point_means(c).tolist()
    [0.5, 50.0]
    """
    n_items = cells.counts.shape[0]
    counts = np.concatenate([cells.counts, cells.counts]).astype(float)
    totals = _totals(cells, counts, np.repeat(np.stack([_RATE, _INDEX]), n_items, axis=0))[0]
    return np.array([float(totals.share[j] @ totals.means[j])
                     for j in range(totals.means.shape[0])])


def _totals(cells: RakedCells, counts: np.ndarray,
            slot_values: np.ndarray) -> tuple[RatioTotals, np.ndarray]:
    """The rows' per-stratum totals, and y_k − m_h per (cell, slot) (0 in slot 0)."""
    so, w = cells.strata_onehot, cells.weights
    valid = counts[:, :, 1:].sum(axis=2)  # rows × G
    t_v = (valid * w) @ so
    t_y = (np.einsum("rgk,rk->rg", counts, slot_values) * w) @ so
    answered = t_v > 0
    if not answered.any(axis=1).all():
        raise ValueError("no valid value in any stratum")
    share_pop = np.where(answered, cells.populations, 0.0)
    share = share_pop / share_pop.sum(axis=1, keepdims=True)
    safe_t_v = np.where(answered, t_v, 1.0)
    means = np.where(answered, t_y / safe_t_v, 0.0)
    dev = slot_values[:, None, :] - means[:, cells.strata, None]
    dev[:, :, 0] = 0.0
    ss = (np.einsum("rgk,rgk->rg", counts, dev * dev) * w) @ so
    return RatioTotals(valid @ so, t_v, answered, share_pop, share, means, ss,
                       (valid * (w * w)) @ so, share / safe_t_v), dev


def _sweeps(cells: RakedCells, sums: np.ndarray) -> np.ndarray:
    """A_c (rows × G): what R's ten sweeps subtract from the influence values in cell c,
    from the cells' sums of u."""
    adjust = np.zeros_like(sums)
    if cells.margin_onehots:
        parts = sweep_adjustments([sums @ o for o in cells.margin_onehots], cells.cross,
                                  cells.margin_counts)
        for a, onehot in zip(parts, cells.margin_onehots, strict=True):
            adjust += a @ onehot.T
    return adjust


def _variances(cells: RakedCells, sums: np.ndarray,
               squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stratified variances (with, without FPC) from each row's per-cell Σ x and
    Σ x² (before the cells' weights)."""
    w = cells.weights
    return stratified_variances((sums * w) @ cells.strata_onehot,
                                (squares * (w * w)) @ cells.strata_onehot,
                                cells.respondents, cells.populations)


def combination_variances(cells: RakedCells, tables: SweptTables,
                          coef) -> tuple[np.ndarray, np.ndarray]:
    """Linearised variances (with, without FPC) of linear combinations of the rows of
    :func:`cell_ratio_means` (every item's rate, then its index).

    Parameters
    ----------
    cells : RakedCells
    tables : SweptTables
        From :func:`cell_ratio_means` of ``cells``.
    coef : array_like, shape (k, 2 × items)
        Each combination's coefficients on the rows.

    Returns
    -------
    (ndarray, ndarray), each of shape (k,)

    Notes
    -----
    The sweeps are linear, so a combination's swept influence value is the same
    combination of the rows' x(c, k); per respondent i in cell c that is
    Σ_r coef_r x_r(c, code of i for r's item), looked up in the tables (one pass over the
    answers per item and kind), then summed squared per stratum. Σ x per cell is the
    combination of the rows' sums.

    Examples
    --------
    >>> c = RakedCells.of([[5, 4, 2, 1]], [10.0] * 4, [0, 0, 0, 0], [40])
    >>> es, t = cell_ratio_means(c, ["a"])
    >>> bool(np.isclose(combination_variances(c, t, [[0.0, 2.0]])[0][0], 4 * es[1].se**2))
    True
    """
    if cells.keys is None:
        raise ValueError("cells built from counts: use raked_sums.pair_combination_variances")
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    n_items = cells.keys.shape[0]
    x = np.zeros((coef.shape[0], cells.keys.shape[1]))
    for half in (slice(0, n_items), slice(n_items, 2 * n_items)):
        part = coef[:, half]
        if part.any():
            x += part @ np.take(tables.values[half].ravel(), cells.keys)
    x *= cells.respondent_weights
    x *= x
    w = cells.weights
    return stratified_variances(((coef @ tables.sums) * w) @ cells.strata_onehot,
                                x @ cells.respondent_strata,
                                cells.respondents, cells.populations)
