"""Internal consistency: Cronbach's alpha (raw and standardised) with the Feldt interval,
corrected item-total correlations and alpha-if-item-deleted (GB/T 19038-2009 annex C).

Missing data (NaN; recode NA answers to NaN first) are handled either *pairwise* (each
covariance uses the rows where both items are present, as ``pandas.DataFrame.cov`` and
pingouin) or *listwise* (rows with any gap are dropped). The Feldt interval uses the number
of respondents actually used: all rows with at least two answered items (pairwise) or the
complete rows (listwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

__all__ = [
    "CronbachAlpha",
    "ItemTotalStatistics",
    "corrected_item_totals",
    "PooledAlpha",
    "alpha_from_sums",
    "alpha_with_interval",
    "covariance_from_sums",
    "cronbach_alpha",
    "item_total_statistics",
    "pairwise_covariance",
    "pairwise_sums",
]

MissingPolicy = Literal["pairwise", "listwise"]


@dataclass(frozen=True, slots=True)
class CronbachAlpha:
    """Cronbach's alpha with its Feldt confidence interval."""

    alpha: float
    standardized_alpha: float
    ci_low: float
    ci_high: float
    confidence: float
    n_used: int
    n_items: int
    missing: str
    convention: str


@dataclass(frozen=True, slots=True)
class ItemTotalStatistics:
    """Per item: corrected item-total correlation and alpha if the item is deleted."""

    corrected_item_total: tuple[float, ...]
    alpha_if_deleted: tuple[float, ...]
    missing: str


@dataclass(frozen=True, slots=True)
class PooledAlpha:
    """Pairwise-deletion alpha and standardised alpha from pooled pair sums, with the
    inter-item correlation matrix (no Feldt interval: it needs the rows used, which the
    sums do not carry)."""

    alpha: float
    standardized_alpha: float
    correlation: np.ndarray
    n_items: int


def _matrix(data) -> np.ndarray:
    x = np.asarray(data, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 2:
        raise ValueError("data must be respondents x items with at least 2 of each")
    return x


def pairwise_covariance(data) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete covariance and correlation matrices (ddof = 1).

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item values with NaN for missing.

    Returns
    -------
    covariance, correlation : ndarray
        Entry (j, l) uses the rows where items j and l are both present; the correlation
        uses the variances over those same rows (as ``pandas.DataFrame.corr``).

    Notes
    -----
    With masks m and zero-filled values x: N = mᵀm, S = xᵀm (sums of item j over rows where
    l is present), P = xᵀx, Q = (x²)ᵀm; cov_jl = (P_jl − S_jl S_lj / N_jl)/(N_jl − 1).
    Everything is a matrix product, O(n k²).

    References
    ----------
    pandas ``DataFrame.cov`` (pairwise deletion).

    Examples
    --------
    >>> cov, cor = pairwise_covariance([[1.0, 2.0], [2.0, float("nan")], [3.0, 5.0], [4.0, 4.0]])
    >>> round(float(cov[0, 1]), 4), round(float(cov[0, 0]), 4)
    (1.8333, 1.6667)
    """
    return covariance_from_sums(*pairwise_sums(_matrix(data)))


def pairwise_sums(data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-item-pair sums behind the pairwise covariance: N, S, P, Q.

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item values with NaN for missing.

    Returns
    -------
    n, s, p, q : ndarray, shape (n_items, n_items)
        With masks m and zero-filled values x: N = mᵀm (rows with both items), S = xᵀm
        (sum of item j over rows where l is present), P = xᵀx, Q = (x²)ᵀm. They add up
        over any partition of the rows, so per-cell sums pool exactly (integers for codes).

    Examples
    --------
    >>> n, s, p, q = pairwise_sums([[1.0, 2.0], [2.0, float("nan")], [3.0, 5.0]])
    >>> n.tolist(), s.tolist()
    ([[3.0, 2.0], [2.0, 2.0]], [[6.0, 4.0], [7.0, 7.0]])
    """
    x = np.asarray(data, dtype=float)
    mask = ~np.isnan(x)
    m = mask.astype(float)
    x0 = np.where(mask, x, 0.0)
    return m.T @ m, x0.T @ m, x0.T @ x0, (x0 * x0).T @ m


def covariance_from_sums(n, s, p, q) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise covariance and correlation matrices from the sums of :func:`pairwise_sums`.

    Parameters
    ----------
    n, s, p, q : array_like, shape (k, k)
        Pair counts, sums, cross-product sums and sums of squares (pooled over cells).

    Returns
    -------
    covariance, correlation : ndarray
        As :func:`pairwise_covariance` (NaN where fewer than two rows share a pair).

    Examples
    --------
    >>> cov, cor = covariance_from_sums(*pairwise_sums([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]]))
    >>> round(float(cov[0, 1]), 4), round(float(cor[0, 1]), 4)
    (1.5, 0.7206)
    """
    n, s, p, q = (np.asarray(a, dtype=float) for a in (n, s, p, q))
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (p - s * s.T / n) / (n - 1)
        var_j = (q - s * s / n) / (n - 1)  # variance of item j over rows where l present
        cor = cov / np.sqrt(var_j * var_j.T)
    cov[n < 2] = np.nan
    cor[n < 2] = np.nan
    np.fill_diagonal(cor, 1.0)
    return cov, cor


def alpha_from_sums(n, s, p, q) -> PooledAlpha:
    """Cronbach's alpha with pairwise deletion from pooled pair sums.

    Parameters
    ----------
    n, s, p, q : array_like, shape (k, k), k >= 2
        The sums of :func:`pairwise_sums`, possibly added up over cells.

    Returns
    -------
    PooledAlpha
        Equal to :func:`cronbach_alpha` (``missing="pairwise"``) on the pooled rows; NaN
        where a pair shares fewer than two rows.

    Examples
    --------
    >>> rows = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, 1]]
    >>> round(alpha_from_sums(*pairwise_sums(rows)).alpha, 3)
    0.944
    """
    cov, cor = covariance_from_sums(n, s, p, q)
    k = cov.shape[0]
    if k < 2:
        raise ValueError("alpha needs at least two items")
    return PooledAlpha(alpha=_alpha_from_cov(cov), standardized_alpha=_standardized_alpha(cor),
                       correlation=cor, n_items=k)


def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def _standardized_alpha(cor: np.ndarray) -> float:
    k = cor.shape[0]
    r_bar = (cor.sum() - k) / (k * (k - 1))
    return float(k * r_bar / (1 + (k - 1) * r_bar))


def _prepare(data, missing: str) -> tuple[np.ndarray, np.ndarray, int]:
    x = _matrix(data)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
        if x.shape[0] < 2:
            raise ValueError("fewer than two complete rows after listwise deletion")
        cov = np.cov(x, rowvar=False)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            cor = cov / np.outer(sd, sd)
        return cov, cor, x.shape[0]
    if missing == "pairwise":
        cov, cor = pairwise_covariance(x)
        n_used = int(np.sum((~np.isnan(x)).sum(axis=1) >= 2))
        return cov, cor, n_used
    raise ValueError(f"missing must be 'pairwise' or 'listwise', got {missing!r}")


def cronbach_alpha(
    data, *, missing: MissingPolicy = "pairwise", confidence: float = 0.95
) -> CronbachAlpha:
    """Cronbach's alpha (raw and standardised) with the Feldt confidence interval.

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item scores, NaN for missing (recode not-applicable answers to NaN).
    missing : {"pairwise", "listwise"}, default "pairwise"
        Missing-data handling (see module docstring).
    confidence : float, default 0.95
        Level of the Feldt interval.

    Returns
    -------
    CronbachAlpha
        alpha, standardized_alpha, ci_low, ci_high, n_used, n_items, missing, convention.

    Notes
    -----
    α = k/(k − 1) · (1 − Σ_j C_jj / Σ_jl C_jl) with C the item covariance matrix;
    standardised α = k r̄ / (1 + (k − 1) r̄) with r̄ the mean inter-item correlation.
    Feldt: low = 1 − (1 − α) F⁻¹(1 − γ/2; n − 1, (n − 1)(k − 1)),
    high = 1 − (1 − α) F⁻¹(γ/2; n − 1, (n − 1)(k − 1)), γ = 1 − confidence, with n the
    respondents actually used (so listwise deletion shrinks n; pingouin keeps the original n).

    References
    ----------
    Cronbach, L. J. (1951). Psychometrika 16, 297-334. Feldt, L. S., Woodruff, D. J. &
    Salih, F. A. (1987). Applied Psychological Measurement 11(1), 93-103.
    Vallat, R. (2018). Pingouin, ``cronbach_alpha``.

    Examples
    --------
    >>> a = cronbach_alpha([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, 1]])
    >>> round(a.alpha, 3), a.n_used
    (0.944, 5)
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    cov, cor, n_used = _prepare(data, missing)
    return alpha_with_interval(cov, cor, n_used, missing=missing, confidence=confidence)


def alpha_with_interval(cov, cor, n_used: int, *, missing: MissingPolicy,
                        confidence: float = 0.95) -> CronbachAlpha:
    """Alpha, standardised alpha and the Feldt interval of :func:`cronbach_alpha` from the
    item covariance and correlation matrices and the number of rows used.

    Parameters
    ----------
    cov, cor : array_like, shape (k, k)
        Item covariance and correlation matrices (``missing`` says how they were formed).
    n_used : int
        Respondents used: rows with >= 2 answered items (pairwise) or complete rows.
    missing : {"pairwise", "listwise"}
        Named in the convention.
    confidence : float, default 0.95
        Level of the Feldt interval.

    Returns
    -------
    CronbachAlpha

    Examples
    --------
    >>> a = alpha_with_interval([[1.0, 0.5], [0.5, 1.0]], [[1.0, 0.5], [0.5, 1.0]], 30,
    ...                         missing="listwise")
    >>> round(a.alpha, 4), round(a.ci_low, 4), a.n_used
    (0.6667, 0.2997, 30)
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    cov, cor = np.asarray(cov, dtype=float), np.asarray(cor, dtype=float)
    k = cov.shape[0]
    alpha = _alpha_from_cov(cov)
    std_alpha = _standardized_alpha(cor)
    df1 = n_used - 1
    df2 = df1 * (k - 1)
    gamma = 1 - confidence
    low = 1 - (1 - alpha) * stats.f.isf(gamma / 2, df1, df2)
    high = 1 - (1 - alpha) * stats.f.isf(1 - gamma / 2, df1, df2)
    convention = (
        f"Cronbach alpha from the {missing} covariance matrix; Feldt CI with n = {n_used} "
        + ("rows with >= 2 answered items" if missing == "pairwise" else "complete rows")
        + f" and k = {k} items"
    )
    return CronbachAlpha(
        alpha=alpha,
        standardized_alpha=std_alpha,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        n_used=n_used,
        n_items=k,
        missing=missing,
        convention=convention,
    )


def corrected_item_totals(cov) -> np.ndarray:
    """Corrected item-total correlations from an item covariance matrix.

    Parameters
    ----------
    cov : array_like, shape (k, k)
        Item covariance matrix, k >= 2.

    Returns
    -------
    ndarray, shape (k,)
        Σ_{l≠j} C_jl / √(C_jj Σ_{l,m≠j} C_lm) for each item j: the correlation of item j
        with the sum of the other items (see :func:`item_total_statistics`).

    Examples
    --------
    >>> [round(float(r), 3) for r in corrected_item_totals([[1.0, 0.5], [0.5, 2.0]])]
    [0.354, 0.354]
    """
    c = np.asarray(cov, dtype=float)
    row = c.sum(axis=1)
    rest_total = c.sum() - 2 * row + np.diag(c)  # variance of the sum without item j
    return (row - np.diag(c)) / np.sqrt(np.diag(c) * rest_total)


def item_total_statistics(data, *, missing: MissingPolicy = "pairwise") -> ItemTotalStatistics:
    """Corrected item-total correlation and alpha-if-deleted for every item.

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item scores with NaN for missing; at least three items.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Missing-data handling.

    Returns
    -------
    ItemTotalStatistics

    Notes
    -----
    Both come from the covariance matrix C: the corrected item-total correlation of item j
    is cov(x_j, Σ_{l≠j} x_l) / √(C_jj · var(Σ_{l≠j} x_l)) = Σ_{l≠j} C_jl /
    √(C_jj Σ_{l,m≠j} C_lm); alpha-if-deleted is alpha of C without row and column j.
    With complete data this equals correlating the item with the sum of the other items.

    References
    ----------
    GB/T 19038-2009, annex C; Nunnally & Bernstein (1994), Psychometric Theory, ch. 6.

    Examples
    --------
    >>> s = item_total_statistics([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, 1]])
    >>> [round(r, 3) for r in s.corrected_item_total]
    [0.881, 0.939, 0.893]
    """
    cov, _, _ = _prepare(data, missing)
    k = cov.shape[0]
    if k < 3:
        raise ValueError("item-total statistics need at least three items")
    r_it = tuple(float(r) for r in corrected_item_totals(cov))
    a_del = tuple(_alpha_from_cov(cov[np.ix_(rest, rest)])
                  for rest in (np.delete(np.arange(k), j) for j in range(k)))
    return ItemTotalStatistics(r_it, a_del, missing)
