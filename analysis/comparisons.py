"""Group comparisons: Mann-Whitney U with rank-biserial correlation (also from category
counts), chi-square on a category table with small-expected-count handling, and
Kruskal-Wallis with epsilon squared. The web vs paper mode effects built on them are in
:mod:`analysis.survey_modes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats

__all__ = [
    "MannWhitneyResult",
    "ChiSquareResult",
    "KruskalWallisResult",
    "mann_whitney",
    "mann_whitney_counts",
    "chi_square_independence",
    "kruskal_wallis",
]


@dataclass(frozen=True, slots=True)
class MannWhitneyResult:
    u: float
    p_value: float
    rank_biserial: float
    n_x: int
    n_y: int
    method: str
    convention: str


@dataclass(frozen=True, slots=True)
class ChiSquareResult:
    statistic: float
    p_value: float
    dof: int
    expected: tuple[tuple[float, ...], ...]
    table: tuple[tuple[int, ...], ...]
    method: str
    small_expected_cells: int
    flagged: bool
    convention: str


@dataclass(frozen=True, slots=True)
class KruskalWallisResult:
    h: float
    p_value: float
    dof: int
    epsilon_squared: float
    n: int
    convention: str


def _clean(a) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    return x[~np.isnan(x)]


def mann_whitney(
    x, y, *, method: Literal["auto", "exact", "asymptotic"] = "auto"
) -> MannWhitneyResult:
    """Two-sided Mann-Whitney U test with the rank-biserial correlation.

    Parameters
    ----------
    x, y : array_like
        The two samples (NaN dropped), e.g. valid codes of web and paper answers.
    method : {"auto", "exact", "asymptotic"}, default "auto"
        p-value method, as ``scipy.stats.mannwhitneyu`` (asymptotic uses the tie-corrected
        normal approximation with continuity correction).

    Returns
    -------
    MannWhitneyResult
        U of x, p-value, rank-biserial r, sample sizes, method.

    Notes
    -----
    U_x = R_x − n_x(n_x + 1)/2 with R_x the rank sum of x (mid-ranks for ties);
    r = 2 U_x / (n_x n_y) − 1, positive when x tends to be larger (Kerby 2014).

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Stat. 18, 50-60. Kerby, D. S. (2014).
    Comprehensive Psychology 3, 11.IT.3.1.

    Examples
    --------
    >>> r = mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
    >>> r.u, round(r.p_value, 4), r.rank_biserial
    (17.0, 0.1111, 0.7)
    """
    a, b = _clean(x), _clean(y)
    if a.size == 0 or b.size == 0:
        raise ValueError("both samples need at least one value")
    res = stats.mannwhitneyu(a, b, alternative="two-sided", method=method)
    u = float(res.statistic)
    return MannWhitneyResult(
        u=u,
        p_value=float(res.pvalue),
        rank_biserial=2 * u / (a.size * b.size) - 1,
        n_x=int(a.size),
        n_y=int(b.size),
        method=method,
        convention="U of the first sample; two-sided; r = 2U/(n_x n_y) - 1 (positive: first "
        "sample larger)",
    )


def mann_whitney_counts(
    x_counts, y_counts, *, method: Literal["auto", "exact", "asymptotic"] = "auto"
) -> MannWhitneyResult:
    """Two-sided Mann-Whitney U test of two samples given as counts of ordered categories.

    Parameters
    ----------
    x_counts, y_counts : array_like of int, shape (k,)
        How often each category occurs in the first and the second sample, categories in
        ascending order (e.g. codes 1..5 of web and of paper answers).
    method : {"auto", "exact", "asymptotic"}, default "auto"
        As :func:`mann_whitney`; "auto" chooses as ``scipy.stats.mannwhitneyu`` does
        (exact only when a sample has at most 8 values and no value is tied).

    Returns
    -------
    MannWhitneyResult
        The same result as :func:`mann_whitney` on the expanded samples.

    Notes
    -----
    All values of category c share the mid-rank m_c = T_<c + (T_c + 1)/2, where T_c is the
    category's total count and T_<c the count below it, so R_x = Σ_c x_c m_c and
    U_x = R_x − n_x(n_x + 1)/2. The asymptotic p-value uses the tie-corrected variance
    σ² = n_x n_y/12 · ((n + 1) − Σ_c (T_c³ − T_c)/(n(n − 1))) and the continuity
    correction: z = (max(U_x, U_y) − n_x n_y/2 − 0.5)/σ, p = 2 Φ(−z), capped at 1.

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Stat. 18, 50-60. Conover, W. J. (1999).
    Practical Nonparametric Statistics, 3rd ed., section 5.1 (ties).

    Examples
    --------
    Codes 1..5 of 12 web and 9 paper answers:

    >>> r = mann_whitney_counts([0, 1, 2, 5, 4], [1, 2, 3, 2, 1])
    >>> r.u, round(r.p_value, 4), round(r.rank_biserial, 4)
    (80.0, 0.0609, 0.4815)
    """
    cx = np.asarray(x_counts, dtype=np.int64)
    cy = np.asarray(y_counts, dtype=np.int64)
    if cx.ndim != 1 or cx.shape != cy.shape or np.any(cx < 0) or np.any(cy < 0):
        raise ValueError("x_counts and y_counts must be 1-D non-negative counts of equal "
                         "length")
    n1, n2 = int(cx.sum()), int(cy.sum())
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    total = cx + cy
    ties = bool(np.any(total > 1))
    chosen = method
    if method == "auto":
        chosen = "asymptotic" if (n1 > 8 and n2 > 8) or ties else "exact"
    if chosen == "exact":
        categories = np.arange(1, cx.size + 1, dtype=float)
        result = mann_whitney(np.repeat(categories, cx), np.repeat(categories, cy),
                              method="exact")
        return MannWhitneyResult(result.u, result.p_value, result.rank_biserial, n1, n2,
                                 method, result.convention)
    if chosen != "asymptotic":
        raise ValueError("method must be 'auto', 'exact' or 'asymptotic'")
    # Mid-ranks are half-integers and their weighted sum is exact in float64, so U equals
    # the rank-sum computation to the last bit.
    mid_rank = np.cumsum(total) - (total - 1) / 2.0
    u1 = float(np.sum(cx * mid_rank)) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    t = total[total > 0].astype(float)
    tie_term = np.sum(t**3 - t)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        z = (u - n1 * n2 / 2 - 0.5) / sigma
    p = float(np.clip(2 * special.ndtr(-z), 0.0, 1.0))
    return MannWhitneyResult(
        u=u1,
        p_value=p,
        rank_biserial=2 * u1 / (n1 * n2) - 1,
        n_x=n1,
        n_y=n2,
        method=method,
        convention="U of the first sample; two-sided; r = 2U/(n_x n_y) - 1 (positive: first "
        "sample larger)",
    )


def chi_square_independence(
    table,
    *,
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "fisher",
    yates: bool = False,
) -> ChiSquareResult:
    """Pearson chi-square test of independence with small-expected-count handling.

    Parameters
    ----------
    table : array_like, shape (r, c)
        Counts, e.g. rows = mode (web, paper), columns = answer categories in scale order.
    min_expected : float, default 5.0
        Expected-count threshold.
    small_expected : {"fisher", "merge", "flag"}, default "fisher"
        What to do when a cell's expected count is below ``min_expected``: "fisher" runs
        Fisher's exact test for a 2x2 table (and merges adjacent columns first for a 2xc
        table, then falls back to merging for larger tables); "merge" merges the column with
        the smallest total into its smaller neighbour (ordinal categories) until every
        expected count reaches the threshold or two columns remain; "flag" keeps the test
        and only sets ``flagged``.
    yates : bool, default False
        Yates continuity correction for 2x2 tables (off: plain Pearson statistic).

    Returns
    -------
    ChiSquareResult
        statistic, p_value, dof, expected, the table actually tested, method,
        small_expected_cells (in the tested table), flagged.

    Notes
    -----
    X² = Σ (O − E)²/E, E_ij = R_i C_j / n, dof = (r − 1)(c − 1). All-zero rows and columns
    are dropped first (they carry no information and give E = 0).

    References
    ----------
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., sections 3.2 and 3.5.
    Cochran, W. G. (1954). Biometrics 10, 417-451 (the expected-count rule).

    Examples
    --------
    >>> r = chi_square_independence([[10, 10, 20], [20, 20, 20]])
    >>> round(r.statistic, 4), round(r.p_value, 4), r.dof
    (2.7778, 0.2494, 2)
    """
    t = _nonempty_table(table)
    if small_expected not in ("flag", "merge", "fisher"):
        raise ValueError("small_expected must be 'fisher', 'merge' or 'flag'")
    method = "Pearson chi-square"
    if small_expected != "flag" and np.any(_expected_counts(t) < min_expected):
        merged = _merge_sparse_columns(t, min_expected)
        if merged.shape != t.shape:
            method = "Pearson chi-square after merging adjacent categories"
        t = merged
    expected = _expected_counts(t)
    small_now = int(np.sum(expected < min_expected))
    if small_now and small_expected == "fisher" and t.shape == (2, 2):
        stat, p, dof = float("nan"), float(stats.fisher_exact(t).pvalue), 1
        method = "Fisher exact (2x2; expected count below threshold)"
    else:
        res = stats.chi2_contingency(t, correction=yates)
        stat, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
        method += " with Yates correction" if yates and dof == 1 else ""
    flagged = bool(small_now) and not method.startswith("Fisher")
    return ChiSquareResult(
        statistic=stat,
        p_value=p,
        dof=dof,
        expected=tuple(tuple(float(v) for v in row) for row in expected),
        table=tuple(tuple(int(v) for v in row) for row in t),
        method=method,
        small_expected_cells=small_now,
        flagged=flagged,
        convention=f"expected-count threshold {min_expected:g}, rule '{small_expected}'; "
        "flagged = small expected counts remain in the tested table",
    )


def _nonempty_table(table) -> np.ndarray:
    """The table as counts without its all-zero rows and columns (they carry no
    information and give E = 0)."""
    t = np.asarray(table, dtype=np.int64)
    if t.ndim != 2 or np.any(t < 0):
        raise ValueError("table must be a 2-D array of non-negative counts")
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError("need at least two non-empty rows and columns")
    return t


def _expected_counts(table: np.ndarray) -> np.ndarray:
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()


def _merge_sparse_columns(table: np.ndarray, min_expected: float) -> np.ndarray:
    """Merge the column with the smallest total into its smaller neighbour (the categories
    are ordinal) until every expected count reaches ``min_expected`` or two columns remain."""
    t = table.copy()
    while t.shape[1] > 2 and np.any(_expected_counts(t) < min_expected):
        totals = t.sum(axis=0)
        j = int(np.argmin(totals))
        if j == 0:
            k = 1
        elif j == t.shape[1] - 1:
            k = j - 1
        else:
            k = j - 1 if totals[j - 1] <= totals[j + 1] else j + 1
        t[:, k] += t[:, j]
        t = np.delete(t, j, axis=1)
    return t


def kruskal_wallis(*groups) -> KruskalWallisResult:
    """Kruskal-Wallis H test with the epsilon-squared effect size.

    Parameters
    ----------
    *groups : array_like
        Two or more samples (NaN dropped).

    Returns
    -------
    KruskalWallisResult
        H (tie-corrected), p-value (chi-square with g − 1 df), dof, ε², n.

    Notes
    -----
    H = [12/(n(n+1)) Σ R_g²/n_g − 3(n+1)] / (1 − Σ(t³ − t)/(n³ − n));
    ε² = H / ((n² − 1)/(n + 1)) = H/(n − 1).

    References
    ----------
    Kruskal, W. H. & Wallis, W. A. (1952). JASA 47, 583-621. Tomczak, M. & Tomczak, E.
    (2014). Trends in Sport Sciences 1(21), 19-25.

    Examples
    --------
    >>> r = kruskal_wallis([1, 1, 1], [2, 2, 2], [2, 2])
    >>> r.h, round(r.p_value, 4), r.epsilon_squared
    (7.0, 0.0302, 1.0)
    """
    cleaned = [_clean(g) for g in groups]
    if len(cleaned) < 2 or any(g.size == 0 for g in cleaned):
        raise ValueError("need at least two non-empty groups")
    res = stats.kruskal(*cleaned)
    n = int(sum(g.size for g in cleaned))
    h = float(res.statistic)
    return KruskalWallisResult(
        h=h,
        p_value=float(res.pvalue),
        dof=len(cleaned) - 1,
        epsilon_squared=h / (n - 1),
        n=n,
        convention="H tie-corrected, chi-square p; epsilon^2 = H/((n^2-1)/(n+1))",
    )
