"""The variance side of a raked stratified design, prepared once per cell.

:class:`RakedDesign` holds the respondents' weights, strata and raking margins with the
indicator matrices and cross counts that every linearised variance under them uses
(:func:`design_variance`; :func:`analysis.raking.calibrated_variance` builds one per call).
The variance is R survey's ``svyrecvar`` for a raked design: the influence values swept ten
times by the margins, then the stratified without-replacement variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "RakedDesign",
    "design_variance",
    "design_variances",
    "indicator_matrix",
    "stratified_variances",
    "sweep_adjustments",
]

#: R survey's svyrecvar sweeps a raked design's influence values this many times.
_SWEEPS = 10


@dataclass(frozen=True, slots=True)
class RakedDesign:
    """Respondents' weights, strata and raking margins with the tables every variance under
    them reuses; build it once (:meth:`of`) for all the variances of one cell: the
    indicator matrices and cross counts cost as much as a sweep."""

    weights: np.ndarray
    strata: np.ndarray
    populations: np.ndarray
    respondents: np.ndarray  # r_h
    strata_onehot: np.ndarray  # n × H
    margins: tuple[np.ndarray, ...]
    margin_onehots: tuple[np.ndarray, ...]  # n × k_m
    margin_counts: tuple[np.ndarray, ...]  # respondents per category (at least 1)
    cross: tuple[tuple[np.ndarray, ...], ...]  # cross[m][k]: k_m × k_k cross counts

    @classmethod
    def of(cls, weights, strata, populations, margins=()) -> RakedDesign:
        """The design of :func:`analysis.raking.calibrated_variance`'s arguments.

        Examples
        --------
        >>> RakedDesign.of([10.0] * 4, [0, 0, 1, 1], [20, 20], [[0, 1, 0, 1]]).cross[0][0]
        array([[2., 0.],
               [0., 2.]])
        """
        h = np.asarray(strata, dtype=np.int64)
        pop = np.asarray(populations, dtype=float)
        cats = tuple(np.asarray(m, dtype=np.int64) for m in margins)
        sizes = [int(c.max(initial=-1)) + 1 for c in cats]
        return cls(
            np.asarray(weights, dtype=float), h, pop,
            np.bincount(h, minlength=pop.size).astype(float), indicator_matrix(h, pop.size), cats,
            tuple(indicator_matrix(c, k) for c, k in zip(cats, sizes, strict=True)),
            tuple(np.maximum(np.bincount(c, minlength=k), 1)
                  for c, k in zip(cats, sizes, strict=True)),
            tuple(tuple(np.bincount(cm * kk + ck, minlength=km * kk).reshape(km, kk)
                        .astype(float) for ck, kk in zip(cats, sizes, strict=True))
                  for cm, km in zip(cats, sizes, strict=True)))


def design_variances(influence, design: RakedDesign) -> tuple[np.ndarray, np.ndarray]:
    """:func:`design_variance` with and without the FPC, from one sweep.

    Examples
    --------
    >>> u = [[-1.5 / 40, -0.5 / 40, 0.5 / 40, 1.5 / 40]]
    >>> [v.round(6).tolist() for v in design_variances(u, RakedDesign.of([10.0] * 4,
    ...                                                                   [0] * 4, [40]))]
    [[0.375], [0.416667]]
    """
    u = np.atleast_2d(np.asarray(influence, dtype=float))
    x = _swept(u, design) if design.margins else u.copy()  # a new array: scaled in place
    x *= design.weights
    s1 = x @ design.strata_onehot
    x *= x  # x is not needed again: squared in place, not into a new rows × n array
    s2 = x @ design.strata_onehot
    return stratified_variances(s1, s2, design.respondents, design.populations)


def stratified_variances(s1, s2, respondents, populations) -> tuple[np.ndarray, np.ndarray]:
    """The stratified without-replacement variance, with and without the FPC, from each
    row's per-stratum sums s1 = Σ_{i∈h} x_i and s2 = Σ_{i∈h} x_i² (rows × H).

    Examples
    --------
    >>> [v.tolist() for v in stratified_variances(np.array([[0.0]]), np.array([[5.0]]),
    ...                                           np.array([4.0]), np.array([40.0]))]
    [[6.0], [6.666666666666667]]
    """
    r, pop = respondents, populations
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(r > 1, (s2 - s1**2 / np.maximum(r, 1)) * r / np.maximum(r - 1, 1),
                          0.0)
    return (within * (1 - r / pop)).sum(axis=1), within.sum(axis=1)


def _swept(u: np.ndarray, design: RakedDesign) -> np.ndarray:
    """u after R's ten sweeps u ← u − ave_c(u) over the margins, computed on the margins'
    small tables: the sweeps only ever subtract per-category constants A_m, so the category
    sums of the current u are S_m − Σ_k A_k N_km (N_km the margins' cross counts) and the
    respondents are touched once to sum and once to subtract."""
    cats = design.margins
    adjust = sweep_adjustments([u @ onehot for onehot in design.margin_onehots],
                               design.cross, design.margin_counts)
    # u − A_0[c_0] − A_1[c_1] … as before, into two arrays rather than one per margin
    # (take keeps them C-ordered, unlike a[:, c]).
    out = np.take(adjust[0], cats[0], axis=1)
    np.subtract(u, out, out=out)
    if len(cats) > 1:
        column = np.empty_like(out)
        for c, a in zip(cats[1:], adjust[1:], strict=True):
            np.take(a, c, axis=1, out=column, mode="clip")  # "raise" would buffer
            out -= column
    return out


def sweep_adjustments(sums, cross, counts) -> list[np.ndarray]:
    """Per margin, the constants A_m (rows × k_m) R's ten sweeps u ← u − ave_c(u) subtract
    in all, from the margins' category sums of u (``sums[m]``, rows × k_m), their cross
    counts N_km (``cross[k][m]``) and their respondents per category (``counts[m]``).

    Examples
    --------
    >>> sweep_adjustments([np.array([[3.0, 1.0]])], ((np.diag([2.0, 2.0]),),),
    ...                   (np.array([2, 2]),))[0].tolist()
    [[1.5, 0.5]]
    """
    adjust = [np.zeros((s.shape[0], s.shape[1])) for s in sums]
    for _ in range(_SWEEPS):
        for m in range(len(sums)):
            current = sums[m] - sum(adjust[k] @ cross[k][m] for k in range(len(sums)))
            adjust[m] += current / counts[m]
    return adjust


def design_variance(influence, design: RakedDesign, *, fpc: bool = True) -> np.ndarray:
    """:func:`analysis.raking.calibrated_variance` under a prepared :class:`RakedDesign`.

    Parameters
    ----------
    influence : array_like, shape (rows, n)
        As :func:`calibrated_variance`.
    design : RakedDesign
        :meth:`RakedDesign.of` the weights, strata, N_h and margins.
    fpc : bool, default True
        Multiply each stratum's variance by 1 − r_h/N_h.

    Returns
    -------
    ndarray, shape (rows,)

    Notes
    -----
    The same numbers, bit for bit, as :func:`analysis.raking.calibrated_variance` with the design's
    arguments.

    References
    ----------
    Lumley, T. survey package, ``svyrecvar``.

    Examples
    --------
    >>> u = [[-1.5 / 40, -0.5 / 40, 0.5 / 40, 1.5 / 40]]
    >>> design_variance(u, RakedDesign.of([10.0] * 4, [0] * 4, [40])).round(6).tolist()
    [0.375]
    """
    with_fpc, without = design_variances(influence, design)
    return with_fpc if fpc else without


def indicator_matrix(codes: np.ndarray, k: int) -> np.ndarray:
    """The n × k indicator matrix of ``codes``: per-code sums of many rows are then one
    BLAS product, several times faster than bincounts over rows × n flattened indices.

    Examples
    --------
    >>> indicator_matrix(np.array([1, 0, 1]), 2).tolist()
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    onehot = np.zeros((codes.size, k))
    onehot[np.arange(codes.size), codes] = 1.0
    return onehot
