"""Group comparisons: web vs paper mode effects within strata (Mann-Whitney U with
rank-biserial correlation; chi-square on the category table with small-expected-count
handling) and Kruskal-Wallis with epsilon squared.

Answers on a k-point scale are fully described by their category counts, so the mode
effects are computed from the 2 x k table of each item and stratum
(:func:`mann_whitney_counts`, :func:`item_mode_effects`): O(respondents) counting once,
then O(k) per test, instead of ranking every respondent per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats

__all__ = [
    "MannWhitneyResult",
    "ChiSquareResult",
    "KruskalWallisResult",
    "ModeEffect",
    "mann_whitney",
    "mann_whitney_counts",
    "chi_square_independence",
    "kruskal_wallis",
    "mode_effects",
    "item_mode_effects",
    "mode_effect_from_counts",
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


@dataclass(frozen=True, slots=True)
class ModeEffect:
    stratum: object
    n_web: int
    n_paper: int
    mann_whitney: MannWhitneyResult | None
    chi_square: ChiSquareResult | None


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
    t = np.asarray(table, dtype=np.int64)
    if t.ndim != 2 or np.any(t < 0):
        raise ValueError("table must be a 2-D array of non-negative counts")
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError("need at least two non-empty rows and columns")

    def expected_of(tab):
        return np.outer(tab.sum(axis=1), tab.sum(axis=0)) / tab.sum()

    method = "Pearson chi-square"
    small = int(np.sum(expected_of(t) < min_expected))
    if small and small_expected in ("merge", "fisher"):
        while t.shape[1] > 2 and np.any(expected_of(t) < min_expected):
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
            method = "Pearson chi-square after merging adjacent categories"
    elif small_expected not in ("flag", "merge", "fisher"):
        raise ValueError("small_expected must be 'fisher', 'merge' or 'flag'")
    expected = expected_of(t)
    small_now = int(np.sum(expected < min_expected))
    if small_now and small_expected == "fisher" and t.shape == (2, 2):
        res = stats.fisher_exact(t)
        stat, p, dof = float("nan"), float(res.pvalue), 1
        method = "Fisher exact (2x2; expected count below threshold)"
    else:
        res = stats.chi2_contingency(t, correction=yates)
        stat, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
        if yates and dof == 1:
            method += " with Yates correction"
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


def mode_effects(
    codes,
    modes: Sequence[object],
    strata: Sequence[object] | None = None,
    *,
    na_code: int = 9,
    scale_points: int = 5,
    web: object = "web",
    paper: object = "paper",
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> tuple[ModeEffect, ...]:
    """Web vs paper mode effects of one item within each stratum.

    Parameters
    ----------
    codes : array_like
        Answer codes per respondent (1..k, ``na_code``, NaN/None).
    modes : sequence
        Mode label per respondent.
    strata : sequence, optional
        Stratum label per respondent (default: one stratum "all").
    na_code : int, default 9
        Not-applicable code (excluded, as missing).
    scale_points : int, default 5
        Number of scale points k.
    web, paper : object, default "web", "paper"
        Mode labels to compare.
    min_expected : float, default 5.0
        Expected-count threshold of the chi-square test.
    small_expected : {"fisher", "merge", "flag"}, default "merge"
        Small-expected-count rule (see :func:`chi_square_independence`).

    Returns
    -------
    tuple of ModeEffect
        One per stratum (in order of first appearance): Mann-Whitney U (web vs paper) and
        the chi-square test of the mode x category table; ``None`` where a mode has no
        valid answers.

    Notes
    -----
    Comparing within strata keeps a different mode mix across household groups from
    masquerading as a mode effect. Computed from the mode x category counts
    (:func:`item_mode_effects`).

    References
    ----------
    de Leeuw, E. D. (2005). To mix or not to mix data collection modes in surveys.
    Journal of Official Statistics 21(2), 233-255.

    Examples
    --------
    >>> codes = [5, 4, 4, 5, 3, 5, 2, 3, 4, 3, 9, 5]
    >>> modes = ["web"] * 6 + ["paper"] * 6
    >>> e = mode_effects(codes, modes)[0]
    >>> e.n_web, e.n_paper, round(e.mann_whitney.rank_biserial, 2)
    (6, 5, 0.5)
    """
    x = np.array([np.nan if c is None else c for c in codes], dtype=float)
    return item_mode_effects(
        x[None, :], modes, strata, na_code=na_code, scale_points=scale_points, web=web,
        paper=paper, min_expected=min_expected, small_expected=small_expected)[0]


def item_mode_effects(
    codes,
    modes: Sequence[object],
    strata: Sequence[object] | None = None,
    *,
    na_code: int = 9,
    scale_points: int = 5,
    web: object = "web",
    paper: object = "paper",
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> tuple[tuple[ModeEffect, ...], ...]:
    """:func:`mode_effects` of every item of a response matrix, counted in one pass.

    Parameters
    ----------
    codes : array_like, shape (n_items, n_respondents)
        Codes 1..k, ``na_code`` or NaN (missing).
    modes, strata, na_code, scale_points, web, paper, min_expected, small_expected
        As :func:`mode_effects`.

    Returns
    -------
    tuple of tuple of ModeEffect
        Per item, one ModeEffect per stratum in order of first appearance.

    Notes
    -----
    One ``bincount`` gives the item x stratum x mode x category table; each test then works
    on its 2 x k slice (:func:`mode_effect_from_counts`).

    Examples
    --------
    >>> codes = [[5, 4, 4, 5, 3, 5, 2, 3, 4, 3, 9, 5],
    ...          [1, 2, 2, 1, 3, 1, 4, 3, 2, 3, 5, 1]]
    >>> modes = ["web"] * 6 + ["paper"] * 6
    >>> [round(e[0].mann_whitney.rank_biserial, 2) for e in item_mode_effects(codes, modes)]
    [0.5, -0.58]
    """
    x = np.asarray(codes, dtype=float)
    if x.ndim != 2:
        raise ValueError("codes must be items x respondents")
    n_items, n = x.shape
    modes_arr = np.asarray(modes)
    if modes_arr.dtype.kind not in "OU":  # compare labels as objects, whatever their type
        modes_arr = modes_arr.astype(object)
    if strata is None:
        labels, h_idx = ["all"], np.zeros(n, dtype=np.intp)
    else:
        labels, h_idx = _first_seen_codes(strata)
    if not (modes_arr.size == n and h_idx.size == n):
        raise ValueError("codes, modes and strata must have the same length")
    answered = ~np.isnan(x) & (x != na_code)
    if np.any(answered & ((x < 1) | (x > scale_points) | (x != np.round(x)))):
        raise ValueError(f"codes must be 1..{scale_points}, the NA code or missing")
    # Slot per answer: 0..k-1 the category, k not compared (NA, missing or another mode).
    mode_idx = np.where(modes_arr == web, 0, np.where(modes_arr == paper, 1, -1))
    compared = answered & (mode_idx >= 0)[None, :]
    slot = np.where(compared, x - 1, scale_points).astype(np.int64)
    width = scale_points + 1
    key = (((np.arange(n_items)[:, None] * len(labels) + h_idx[None, :]) * 2
            + np.maximum(mode_idx, 0)[None, :]) * width + slot)
    table = np.bincount(key.ravel(), minlength=n_items * len(labels) * 2 * width).reshape(
        n_items, len(labels), 2, width)[..., :scale_points]
    return tuple(
        tuple(mode_effect_from_counts(label, table[j, h, 0], table[j, h, 1],
                                      min_expected=min_expected,
                                      small_expected=small_expected)
              for h, label in enumerate(labels))
        for j in range(n_items))


def mode_effect_from_counts(
    stratum: object,
    web_counts,
    paper_counts,
    *,
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> ModeEffect:
    """Mode effect of one item in one stratum from the category counts of each mode.

    Parameters
    ----------
    stratum : object
        Label of the stratum (reported as is).
    web_counts, paper_counts : array_like of int, shape (k,)
        Counts of the categories 1..k among the valid web and paper answers.
    min_expected, small_expected
        As :func:`chi_square_independence`.

    Returns
    -------
    ModeEffect
        Mann-Whitney U (:func:`mann_whitney_counts`) and the chi-square test of the 2 x k
        table; ``None`` where a mode has no valid answers (chi-square also when fewer than
        two categories occur).

    Examples
    --------
    The web codes 5, 4, 4, 5, 3, 5 and the paper codes 2, 3, 4, 3, 5 as counts of 1..5:

    >>> e = mode_effect_from_counts("relocated", [0, 0, 1, 2, 3], [0, 1, 2, 1, 1])
    >>> e.n_web, e.n_paper, round(e.mann_whitney.rank_biserial, 2)
    (6, 5, 0.5)
    """
    table = np.vstack([np.asarray(web_counts, dtype=np.int64),
                       np.asarray(paper_counts, dtype=np.int64)])
    n_web, n_paper = int(table[0].sum()), int(table[1].sum())
    mw = chi = None
    if n_web and n_paper:
        mw = mann_whitney_counts(table[0], table[1])
        if np.count_nonzero(table.sum(axis=0)) >= 2:
            chi = chi_square_independence(
                table, min_expected=min_expected, small_expected=small_expected)
    return ModeEffect(stratum, n_web, n_paper, mw, chi)


def _first_seen_codes(labels) -> tuple[list, np.ndarray]:
    """Distinct labels in order of first appearance and each element's index into them."""
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iub":
        distinct, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return distinct[order].tolist(), rank[inverse]
    values = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    distinct = list(dict.fromkeys(values))
    index = {label: k for k, label in enumerate(distinct)}
    return distinct, np.fromiter(map(index.__getitem__, values), dtype=np.intp,
                                 count=len(values))
