"""Raked statistics of a document cell from its stored aggregates per raking cell.

A raking cell is one household group × community × project: its respondents share the
design weight, the raking margins' categories and so the raked weight. The raked ratio
means and their linearised SEs need only each item's respondents per (raking cell, code)
(:meth:`analysis.raked_cells.RakedCells.of_counts`). The variance of a linear combination
of items (the composite index, a dimension's index or rate) squares, per respondent, the
sum of the items' swept influence values; within a raking cell each item's value is an
affine function of its code (index) or of its satisfied flag (rate), so the sum of squares
needs the items' pairwise moments over the respondents valid on both: the stored pair
sums (:class:`PairTables`).

The numbers are :func:`analysis.raked_cells.combination_variances`' (and so
:func:`analysis.raking.calibrated_variance`'s) up to rounding (rtol 1e-12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.raked_cells import RakedCells, SweptTables
from analysis.raked_design import stratified_variances
from analysis.response_table import stratum_codes

__all__ = ["PairTables", "RakingCellSums", "pair_combination_variances"]

#: Moments are taken about these points (exact: whole and half numbers) so that the
#: expansion of the squares cancels few digits: a code's middle, a 0/1 flag's middle.
_CODE_CENTRE, _FLAG_CENTRE = 3.0, 0.5


@dataclass(frozen=True, slots=True)
class PairTables:
    """Per raking cell and ordered pair of items (G × P × P), over the respondents with a
    valid answer (1..5) to both items: their number, Σ of the first item's code, Σ of the
    codes' product, Σ of the first item's satisfied flag (code ≥ 4) and Σ of both flags;
    the diagonal is the item alone. Build it from the stored pair sums with
    :meth:`of_records`."""

    items: tuple[int, ...]  # P: the items' rows among the cell's items
    n: np.ndarray
    code_sums: np.ndarray  # [g, a, b]: Σ code_a over the respondents valid on a and b
    code_products: np.ndarray
    sat_sums: np.ndarray  # [g, a, b]: Σ 1(code_a ≥ 4)
    sat_products: np.ndarray

    @classmethod
    def of_records(cls, items: Sequence[int], n_cells: int, cell, item_a, item_b, n, sum_a,
                   sum_b, sum_ab, sat_a, sat_b, sat_ab) -> PairTables:
        """The tables of pair-sum records (arrays, one element per record).

        Parameters
        ----------
        items : sequence of int
            The items' rows that the records cover.
        n_cells : int
            G.
        cell, item_a, item_b : array_like of int
            Each record's raking cell 0..G-1 and items (rows in ``items``; ``item_a`` ==
            ``item_b``: the item alone). Records of one cell and pair add up (the modes
            of a raking cell).
        n, sum_a, sum_b, sum_ab, sat_a, sat_b, sat_ab : array_like
            The stored sums (Σ code_a, Σ code_b, Σ code_a code_b, and the respondents
            with a ≥ 4, b ≥ 4, both).

        Examples
        --------
        One cell, items 0 and 2: codes (5, 4) and (2, NA), so the pair has one respondent.

        >>> t = PairTables.of_records([0, 2], 1, [0, 0, 0], [0, 0, 2], [0, 2, 2],
        ...                           [2, 1, 1], [7, 5, 4], [7, 4, 4], [29, 20, 16],
        ...                           [1, 1, 1], [1, 1, 1], [1, 1, 1])
        >>> t.n[0].tolist(), t.code_sums[0].tolist()
        ([[2.0, 1.0], [1.0, 1.0]], [[7.0, 5.0], [4.0, 4.0]])
        """
        position = np.full(max(items, default=-1) + 1, -1, dtype=np.intp)
        position[list(items)] = np.arange(len(items))
        c = np.asarray(cell, dtype=np.intp)
        a, b = position[np.asarray(item_a, dtype=np.intp)], position[np.asarray(item_b,
                                                                               dtype=np.intp)]
        if np.any(a < 0) or np.any(b < 0):
            raise ValueError("a record's item is not among the items")
        off = a != b
        tables = []
        for first, second in ((n, n), (sum_a, sum_b), (sum_ab, sum_ab), (sat_a, sat_b),
                              (sat_ab, sat_ab)):
            table = np.zeros((n_cells, len(items), len(items)))
            np.add.at(table, (c, a, b), np.asarray(first, dtype=float))
            np.add.at(table, (c[off], b[off], a[off]), np.asarray(second, dtype=float)[off])
            tables.append(table)
        return cls(tuple(items), *tables)

    def take(self, cells: np.ndarray) -> PairTables:
        """The tables of the raking cells ``cells`` (indices or a mask)."""
        return PairTables(self.items, self.n[cells], self.code_sums[cells],
                          self.code_products[cells], self.sat_sums[cells],
                          self.sat_products[cells])


@dataclass(frozen=True, slots=True)
class RakingCellSums:
    """One document cell's stored aggregates per raking cell (group × community ×
    project): what :func:`analysis.raked_cell_statistics` reads instead of the responses.

    ``strata`` each cell's household group (the stratum's label), ``margins`` each cell's
    category in every raking margin (as the respondents' in
    :func:`analysis.raking.rake_weights`), ``respondents`` the cell's counted responses,
    ``counts`` (items × G × 5, or × 7) its respondents per item and code 1..5 (then NA
    and missing), ``pairs`` its pair sums (None: point estimates only)."""

    strata: tuple
    margins: tuple[np.ndarray, ...]
    respondents: np.ndarray
    counts: np.ndarray
    pairs: PairTables | None = None

    def cells(self, weights, population_by_stratum) -> tuple[RakedCells, list, PairTables]:
        """The :class:`RakedCells` of the cells with respondents under their raked
        ``weights`` (G), the strata's labels (sorted, as the respondents' strata are
        coded) and those cells' pair tables.

        Examples
        --------
        >>> s = RakingCellSums(("b", "a", "a"), (np.array([0, 1, 1]),), np.array([3, 0, 2]),
        ...                    np.array([[[1, 0, 0, 1, 1], [0] * 5, [0, 0, 0, 0, 2]]]))
        >>> c, labels, _ = s.cells([10.0, 20.0, 30.0], {"a": 40, "b": 50})
        >>> labels, c.weights.tolist(), c.respondents.tolist()
        (['a', 'b'], [10.0, 30.0], [2.0, 3.0])
        """
        keep = np.flatnonzero(np.asarray(self.respondents) > 0)
        labels_arr, stratum = stratum_codes(np.asarray(self.strata, dtype=object)[keep])
        labels = labels_arr.tolist()
        cells = RakedCells.of_counts(
            np.asarray(self.counts)[:, keep], np.asarray(self.respondents)[keep],
            np.asarray(weights, dtype=float)[keep], stratum,
            [float(population_by_stratum[lab]) for lab in labels],
            [np.asarray(m)[keep] for m in self.margins])
        return cells, labels, None if self.pairs is None else self.pairs.take(keep)


def pair_combination_variances(cells: RakedCells, tables: SweptTables, coef,
                               pairs: PairTables) -> tuple[np.ndarray, np.ndarray]:
    """:func:`analysis.raked_cells.combination_variances` from pair sums instead of the
    respondents' answers.

    Parameters
    ----------
    cells : RakedCells
        :meth:`RakedCells.of_counts` (or :meth:`RakedCells.of`).
    tables : SweptTables
        :func:`analysis.raked_cells.cell_ratio_means` of ``cells``.
    coef : array_like, shape (k, 2 × items)
        Each combination's coefficients on the rows (every item's rate, then its index);
        a combination takes rates only or indices only, of items in ``pairs``.
    pairs : PairTables
        The same cells' pair tables.

    Returns
    -------
    (ndarray, ndarray), each of shape (k,)
        The variances with and without the FPC.

    Notes
    -----
    In cell c a respondent's swept value of a combination is
    X = K_c + Σ_j v_j (a_cj + b_cj z_j), K_c = Σ_r coef_r x_r(c, no answer), v_j the
    valid flag, z_j the code − 3 (indices) or the flag − 1/2 (rates); so
    Σ_{i∈c} X² = n_c K² + 2 K Σ_j (a_j N_jj + b_j Z_jj) + Σ_jl (a_j a_l N_jl
    + 2 a_j b_l Z_lj + b_j b_l P_jl), with N, Z, P the pairs' counts, sums and products
    about those centres; then the stratified variance as for the respondents.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3; survey package, ``svyrecvar``.

    Examples
    --------
    Codes (5, 4), (4, 2), (2, NA), (1, 5) of two items in one cell of weight 10, N = 40:

    >>> from analysis.raked_cells import cell_ratio_means, combination_variances
    >>> codes = [[5, 4, 2, 1], [4, 2, 9, 5]]
    >>> c = RakedCells.of_counts([[[1, 1, 0, 1, 1]], [[0, 1, 0, 1, 1]]], [4], [10.0], [0], [40])
    >>> t = PairTables.of_records([0, 1], 1, [0] * 3, [0, 0, 1], [0, 1, 1], [4, 3, 3],
    ...                           [12, 10, 11], [12, 11, 11], [46, 33, 45], [2, 2, 2],
    ...                           [2, 2, 2], [2, 1, 2])
    >>> es, x = cell_ratio_means(c, ["a"])
    >>> coef = [[0, 0, 0.5, 0.5]]
    >>> v = pair_combination_variances(c, x, coef, t)[0]
    >>> by_rows = RakedCells.of(codes, [10.0] * 4, [0] * 4, [40])
    >>> es, y = cell_ratio_means(by_rows, ["a"])
    >>> bool(np.isclose(v[0], combination_variances(by_rows, y, coef)[0][0], rtol=1e-12))
    True
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    n_items = cells.counts.shape[0]
    rates, indices = coef[:, :n_items] != 0, coef[:, n_items:] != 0
    if np.any(rates.any(axis=1) & indices.any(axis=1)):
        raise ValueError("a combination of rates and indices: not computable from pair sums")
    items = np.asarray(pairs.items, dtype=np.intp)
    if np.setdiff1d(np.flatnonzero(rates.any(axis=0) | indices.any(axis=0)), items).size:
        raise ValueError("a combination's item has no pair sums")
    none = tables.values[:, :, 0]  # rows × G: x of a respondent without a valid answer
    k = coef @ none
    squares = cells.counts[0].sum(axis=1) * k * k
    for rate, part in ((True, coef[:, :n_items]), (False, coef[:, n_items:])):
        on = part[:, items]  # combinations × P
        if not on.any():
            continue
        rows = items if rate else items + n_items
        change = tables.values[rows] - none[rows][:, :, None]  # P × G × 6, per slot
        if rate:  # the same value in slots 1..3 and in 4..5
            low, high = change[:, :, 1], change[:, :, 4]
            a, b = (low + high) / 2, high - low
            moments = _centred(pairs.n, pairs.sat_sums, pairs.sat_products, _FLAG_CENTRE)
        else:  # affine in the code
            a, b = change[:, :, 3], (change[:, :, 5] - change[:, :, 1]) / 4
            moments = _centred(pairs.n, pairs.code_sums, pairs.code_products, _CODE_CENTRE)
        squares += _cell_squares(on[:, None, :] * a.T, on[:, None, :] * b.T, k, *moments)
    w = cells.weights
    variances = stratified_variances(((coef @ tables.sums) * w) @ cells.strata_onehot,
                                     (squares * (w * w)) @ cells.strata_onehot,
                                     cells.respondents, cells.populations)
    # Σ X² expanded from the pair moments cancels differently from the respondents' own
    # squares: a variance that is 0 (a multi-item dimension swept to constants in a small
    # cell) can come out a few ulps below 0 here, where the square root must give 0.
    return tuple(np.maximum(v, 0.0) for v in variances)


def _cell_squares(a: np.ndarray, b: np.ndarray, k: np.ndarray, n: np.ndarray, z: np.ndarray,
                  p: np.ndarray) -> np.ndarray:
    """Σ_{i∈c} X² − n_c K² (combinations × G) from the coefficients a, b (combinations ×
    G × P) and the centred moments n, z, p (G × P × P)."""
    diag_n, diag_z = np.diagonal(n, axis1=1, axis2=2), np.diagonal(z, axis1=1, axis2=2)
    linear = np.einsum("kgp,gp->kg", a, diag_n) + np.einsum("kgp,gp->kg", b, diag_z)
    return (2 * k * linear + np.einsum("kgj,kgl,gjl->kg", a, a, n, optimize=True)
            + 2 * np.einsum("kgj,kgl,glj->kg", a, b, z, optimize=True)
            + np.einsum("kgj,kgl,gjl->kg", b, b, p, optimize=True))


def _centred(n: np.ndarray, sums: np.ndarray, products: np.ndarray,
             centre: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N, Σ (z_a − centre) and Σ (z_a − centre)(z_b − centre) per cell and pair (exact for
    whole and half centres of whole sums)."""
    swapped = np.swapaxes(sums, 1, 2)
    return (n, sums - centre * n,
            products - centre * sums - centre * swapped + centre * centre * n)
