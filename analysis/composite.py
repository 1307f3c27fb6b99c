"""Composite satisfaction index: dimension indices and an overall index from item indices.

Weights can be equal, user-given, derived from importance, entropy weights (one documented
variant) or AHP priorities with the consistency ratio.  All weight functions return plain
arrays that sum to 1, so they can be combined freely in :func:`composite_index`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "RANDOM_INDEX_TABLES",
    "AHPResult",
    "DimensionIndex",
    "CompositeIndex",
    "equal_weights",
    "normalized_weights",
    "importance_weights",
    "entropy_weights",
    "ahp_weights",
    "composite_index",
]

#: Random consistency index RI by matrix order n (index n - 1).
RANDOM_INDEX_TABLES: dict[str, tuple[float, ...]] = {
    # Saaty, Theory and Applications of the Analytic Network Process (2005), p. 31 (as AHPy).
    "saaty2005": (0.0, 0.0, 0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49, 1.52, 1.54, 1.56,
                  1.58, 1.59),
    # Saaty, The Analytic Hierarchy Process (1980), the table most Chinese textbooks print.
    "saaty1980": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49),
    # Donegan & Dodd (1991), Mathematical and Computer Modelling 15(10), 135-137 (as AHPy).
    "donegan_dodd": (0.0, 0.0, 0.4914, 0.8286, 1.0591, 1.1797, 1.2519, 1.3171, 1.3733, 1.4055,
                     1.4213, 1.4497, 1.4643, 1.4822, 1.4969),
}


@dataclass(frozen=True, slots=True)
class AHPResult:
    """AHP priorities of a pairwise comparison matrix and its consistency."""

    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    random_index: float
    random_index_table: str
    convention: str


@dataclass(frozen=True, slots=True)
class DimensionIndex:
    """Index of one dimension, its items, their weights within it, and its weight."""

    name: str
    index: float
    items: tuple[int, ...]
    item_weights: tuple[float, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class CompositeIndex:
    """Overall index and dimension indices."""

    overall: float
    dimensions: tuple[DimensionIndex, ...]
    weights_method: str
    convention: str


def _normalise(w: np.ndarray) -> np.ndarray:
    if w.ndim != 1 or w.size == 0 or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be a non-empty vector of finite non-negative numbers")
    total = w.sum()
    if total <= 0:
        raise ValueError("weights sum to zero")
    return w / total


def equal_weights(n: int) -> np.ndarray:
    """Equal weights 1/n.

    Parameters
    ----------
    n : int
        Number of components.

    Returns
    -------
    ndarray

    Notes
    -----
    w_j = 1/n.

    References
    ----------
    GB/T 19038-2009, section 6 (weighting of indicators).

    Examples
    --------
    >>> equal_weights(4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    if n < 1:
        raise ValueError("n must be positive")
    return np.full(n, 1.0 / n)


def normalized_weights(weights: Sequence[float]) -> np.ndarray:
    """User-given weights rescaled to sum to 1.

    Parameters
    ----------
    weights : sequence of float
        Non-negative weights (e.g. 30, 30, 40).

    Returns
    -------
    ndarray

    Notes
    -----
    w_j = g_j / Σ g.

    References
    ----------
    GB/T 19038-2009, section 6.

    Examples
    --------
    >>> normalized_weights([30, 30, 40]).tolist()
    [0.3, 0.3, 0.4]
    """
    return _normalise(np.asarray(weights, dtype=float))


def importance_weights(importance: Sequence[float]) -> np.ndarray:
    """Weights proportional to (derived or stated) importance; negatives count as zero.

    Parameters
    ----------
    importance : sequence of float
        E.g. Spearman correlations of each dimension with the overall item.

    Returns
    -------
    ndarray

    Notes
    -----
    w_j = max(I_j, 0) / Σ max(I, 0). A negative derived importance means "no evidence of
    importance", hence zero weight; all-non-positive input raises ``ValueError``.

    References
    ----------
    GB/T 19038-2009, annex D (importance from correlation with overall satisfaction).

    Examples
    --------
    >>> importance_weights([0.6, 0.3, -0.1]).round(4).tolist()
    [0.6667, 0.3333, 0.0]
    """
    return _normalise(np.clip(np.asarray(importance, dtype=float), 0.0, None))


def entropy_weights(matrix) -> np.ndarray:
    """Entropy weights of indicators (columns) over evaluation units (rows).

    Parameters
    ----------
    matrix : array_like, shape (m_units, n_indicators)
        Non-negative, larger-is-better values (e.g. item indices 0-100 per stratum or
        community). At least two rows.

    Returns
    -------
    ndarray
        Weights summing to 1.

    Notes
    -----
    Variant used here: **raw-sum normalisation, no min-max step**.
    p_ij = x_ij / Σ_i x_ij; e_j = −(1/ln m) Σ_i p_ij ln p_ij with 0·ln 0 = 0;
    d_j = 1 − e_j; w_j = d_j / Σ_j d_j. Min-max normalisation (another common variant) changes
    the weights substantially and is not used. A column that is constant has e_j = 1 and
    weight 0; if every column is constant there is no information and ``ValueError`` is raised.

    References
    ----------
    Shannon (1948); Zou, Yun & Sun (2006), Journal of Environmental Sciences 18(5), 1020-1023.

    Examples
    --------
    >>> entropy_weights([[1, 1, 0], [3, 1, 2]]).round(6).tolist()
    [0.15876, 0.0, 0.84124]
    """
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("matrix must be units x indicators, >= 2 rows, finite, non-negative")
    col = x.sum(axis=0)
    if np.any(col <= 0):
        raise ValueError("every indicator needs a positive column sum")
    p = x / col
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(x.shape[0])
    d = 1.0 - e
    d[np.abs(d) < 1e-12] = 0.0
    if d.sum() <= 0:
        raise ValueError("all indicators are constant across units; entropy weights undefined")
    return d / d.sum()


def ahp_weights(matrix, *, random_index: str | Sequence[float] = "saaty2005") -> AHPResult:
    """AHP priority weights (principal eigenvector) with λmax, CI and consistency ratio.

    Parameters
    ----------
    matrix : array_like, shape (n, n)
        Positive reciprocal pairwise comparison matrix (a_ij = 1/a_ji).
    random_index : str or sequence of float, default "saaty2005"
        Name of a table in :data:`RANDOM_INDEX_TABLES` ("saaty2005", "saaty1980",
        "donegan_dodd") or an own table indexed by n - 1.

    Returns
    -------
    AHPResult
        weights, lambda_max, consistency_index, consistency_ratio (CR ≤ 0.10 is the usual
        acceptance rule), random_index, random_index_table, convention.

    Notes
    -----
    A w = λmax w with w the principal (Perron) eigenvector scaled to Σ w = 1;
    CI = (λmax − n)/(n − 1); CR = CI / RI(n). For n ≤ 2, CR = 0.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill.
    Saaty, T. L. (2005). Theory and Applications of the Analytic Network Process, p. 31.

    Examples
    --------
    >>> r = ahp_weights([[1, 3], [1 / 3, 1]])
    >>> [round(w, 2) for w in r.weights], r.consistency_ratio
    ([0.75, 0.25], 0.0)
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.ndim != 2 or a.shape != (n, n) or np.any(a <= 0):
        raise ValueError("matrix must be square and positive")
    if not np.allclose(a * a.T, 1.0, rtol=1e-6):
        raise ValueError("matrix must be reciprocal: a_ij * a_ji = 1")
    eigvals, eigvecs = np.linalg.eig(a)
    i = int(np.argmax(eigvals.real))
    lam = float(eigvals[i].real)
    w = np.abs(eigvecs[:, i].real)
    w = w / w.sum()
    if isinstance(random_index, str):
        if random_index not in RANDOM_INDEX_TABLES:
            raise ValueError(f"unknown RI table {random_index!r}; use {list(RANDOM_INDEX_TABLES)}")
        table, table_name = RANDOM_INDEX_TABLES[random_index], random_index
    else:
        table, table_name = tuple(float(v) for v in random_index), "user-given"
    if n <= 2:
        ci, ri, cr = 0.0, 0.0, 0.0
    else:
        if n > len(table):
            raise ValueError(f"RI table {table_name!r} stops at n = {len(table)}")
        ri = float(table[n - 1])
        ci = (lam - n) / (n - 1)
        cr = ci / ri
    return AHPResult(
        weights=tuple(float(v) for v in w),
        lambda_max=lam,
        consistency_index=float(ci),
        consistency_ratio=float(cr),
        random_index=ri,
        random_index_table=table_name,
        convention="principal eigenvector; CI=(lambda_max-n)/(n-1); CR=CI/RI, "
        f"RI table {table_name}",
    )


def composite_index(
    item_indices: Sequence[float],
    dimensions: Mapping[str, Sequence[int]],
    *,
    item_weights: Sequence[float] | None = None,
    dimension_weights: Sequence[float] | None = None,
    weights_method: str = "equal",
) -> CompositeIndex:
    """Dimension indices and the overall index as weighted means of item indices.

    Parameters
    ----------
    item_indices : sequence of float
        Index (0-100) of every item; NaN items (no valid answers) are skipped and the
        remaining weights of their dimension renormalised.
    dimensions : mapping
        Dimension name -> positions of its items in ``item_indices`` (in order).
    item_weights : sequence of float, optional
        Weight of each item (all items); renormalised within each dimension. Default equal.
    dimension_weights : sequence of float, optional
        Weight of each dimension in mapping order; default equal. Use :func:`ahp_weights`,
        :func:`entropy_weights` or :func:`importance_weights` to derive them.
    weights_method : str, default "equal"
        Label describing how the weights were obtained (stored in the result).

    Returns
    -------
    CompositeIndex

    Notes
    -----
    D_d = Σ_{j∈d} u_j I_j / Σ_{j∈d} u_j; overall = Σ_d W_d D_d / Σ_d W_d.

    References
    ----------
    GB/T 19038-2009, section 6; Fornell et al. (1996).

    Examples
    --------
    >>> c = composite_index([80, 90, 70, 60], {"housing": [0, 1], "service": [2, 3]},
    ...                     dimension_weights=[0.6, 0.4], weights_method="given")
    >>> [d.index for d in c.dimensions], round(c.overall, 2)
    ([85.0, 65.0], 77.0)
    """
    idx = np.asarray(item_indices, dtype=float)
    u = np.ones(idx.size) if item_weights is None else np.asarray(item_weights, dtype=float)
    if u.shape != idx.shape or np.any(u < 0):
        raise ValueError("item_weights must be non-negative, one per item")
    names = list(dimensions)
    wd = equal_weights(len(names)) if dimension_weights is None else _normalise(
        np.asarray(dimension_weights, dtype=float))
    if wd.size != len(names):
        raise ValueError("dimension_weights needs one weight per dimension")
    dims = []
    for name, w in zip(names, wd, strict=True):
        items = np.asarray(dimensions[name], dtype=np.int64)
        if items.size == 0:
            raise ValueError(f"dimension {name!r} has no items")
        vals = idx[items]
        uw = np.where(np.isnan(vals), 0.0, u[items])
        value = float(uw @ np.nan_to_num(vals) / uw.sum()) if uw.sum() > 0 else float("nan")
        dims.append(DimensionIndex(name, value, tuple(int(i) for i in items),
                                   tuple(float(v) for v in (uw / uw.sum() if uw.sum() > 0
                                                            else uw)), float(w)))
    dvals = np.array([d.index for d in dims])
    ok = ~np.isnan(dvals)
    overall = float(wd[ok] @ dvals[ok] / wd[ok].sum()) if ok.any() else float("nan")
    return CompositeIndex(
        overall=overall,
        dimensions=tuple(dims),
        weights_method=weights_method,
        convention="dimension index = weighted mean of its item indices (0-100); overall = "
        f"weighted mean of dimension indices; weights: {weights_method}",
    )
