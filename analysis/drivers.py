"""Key drivers: derived importance against the overall item and Importance-Performance
Analysis (IPA) quadrants (GB/T 19038-2009 annex D; Martilla & James 1977)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats

__all__ = [
    "DerivedImportance",
    "IPAPoint",
    "ImportancePerformance",
    "derived_importance",
    "derived_importance_from_tables",
    "importance_performance_quadrants",
]

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


@dataclass(frozen=True, slots=True)
class DerivedImportance:
    """Correlation of each driver with the overall item."""

    coefficients: tuple[float, ...]
    p_values: tuple[float, ...]
    n_used: tuple[int, ...]
    method: str
    convention: str


@dataclass(frozen=True, slots=True)
class IPAPoint:
    label: str
    importance: float
    performance: float
    quadrant: str


@dataclass(frozen=True, slots=True)
class ImportancePerformance:
    points: tuple[IPAPoint, ...]
    importance_cut: float
    performance_cut: float
    crosshair: str
    convention: str


def derived_importance(
    drivers, overall, *, method: Literal["spearman", "pearson"] = "spearman"
) -> DerivedImportance:
    """Derived importance: correlation of each driver (column) with the overall item.

    Parameters
    ----------
    drivers : array_like, shape (n_respondents, n_drivers)
        Dimension scores (or item codes) per respondent; NaN for missing.
    overall : array_like, shape (n_respondents,)
        Overall-satisfaction answer per respondent; NaN for missing / not applicable.
    method : {"spearman", "pearson"}, default "spearman"
        Correlation coefficient.

    Returns
    -------
    DerivedImportance
        coefficient, two-sided p-value and respondents used per driver.

    Notes
    -----
    Spearman ρ is the Pearson correlation of mid-ranks, computed per driver on the
    respondents who answered both (pairwise deletion). A constant column yields NaN. The
    p-value is Student's t with n − 2 degrees of freedom, t = ρ √((n − 2)/((1 + ρ)(1 − ρ))),
    as ``scipy.stats.spearmanr``; the mid-ranks come from the distinct values and their
    counts (answer scales have few), which gives the same ranks as a full sort.

    References
    ----------
    GB/T 19038-2009, annex D; Spearman, C. (1904). American Journal of Psychology 15, 72-101.

    Examples
    --------
    >>> r = derived_importance([[1, 5], [2, 3], [3, 4], [4, 1], [5, 2]], [1, 2, 3, 4, 5])
    >>> [round(c, 2) for c in r.coefficients]
    [1.0, -0.8]
    """
    x = np.asarray(drivers, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(overall, dtype=float)
    if x.shape[0] != y.shape[0]:
        raise ValueError("drivers and overall need the same number of respondents")
    if method not in ("spearman", "pearson"):
        raise ValueError("method must be 'spearman' or 'pearson'")
    columns = np.ascontiguousarray(x.T)  # one copy, then every driver is contiguous
    y_missing = np.isnan(y)
    # The overall item's distinct values once; each driver's subset then ranks them by
    # counting (np.bincount) instead of sorting again.
    y_values, y_level = np.unique(y, return_inverse=True)
    coefs, pvals, ns = [], [], []
    for column in columns:
        ok = ~(np.isnan(column) | y_missing)
        a, b = column[ok], y[ok]
        ns.append(int(ok.sum()))
        if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
            coefs.append(float("nan"))
            pvals.append(float("nan"))
            continue
        if method == "spearman":
            rho, p = _spearman(_midranks(a), _level_midranks(y_level[ok], y_values.size))
        else:
            res = stats.pearsonr(a, b)
            rho, p = float(res.statistic), float(res.pvalue)
        coefs.append(rho)
        pvals.append(p)
    return DerivedImportance(tuple(coefs), tuple(pvals), tuple(ns), method, _convention(method))


def _convention(method: str) -> str:
    return f"{method} correlation of each driver with the overall item, pairwise deletion"


def derived_importance_from_tables(tables: Sequence) -> DerivedImportance:
    """:func:`derived_importance` (Spearman) of dimension scores from their joint tables
    with the overall item.

    Parameters
    ----------
    tables : sequence of array_like, each of shape (m, 4)
        Per driver, integer rows ``(score_sum, score_count, overall_code, n)``: ``n``
        respondents with a valid overall answer ``overall_code`` and ``score_count`` >= 1
        valid answers in the dimension summing to ``score_sum``. Rows may repeat a key (they
        add up); rows with ``n`` = 0 are ignored.

    Returns
    -------
    DerivedImportance
        As ``derived_importance(dimension_scores(valid_codes, composite), overall)`` on the
        respondents the tables count.

    Notes
    -----
    A respondent's dimension score is ``score_sum / score_count`` divided in float64, the
    same correctly rounded quotient as :func:`analysis.campaign.dimension_scores` (whose sum
    of small integers is exact), so equal rationals (8/2 and 12/3, 13/3 and 26/6) tie here as
    they do there. The mid-ranks are those of the expanded sample; the rank moments are
    sums of counts times products of half-integers, exact in float64 (up to about 10^5
    respondents), and go through the same steps as ``numpy.corrcoef`` and the t statistic
    of :func:`derived_importance`, so coefficient and p-value agree with the row
    computation to rounding (to the bit while the sums are exact).

    References
    ----------
    GB/T 19038-2009, annex D; Spearman, C. (1904). American Journal of Psychology 15, 72-101.

    Examples
    --------
    Scores 4, 4, 13/3, 2, 3 (as sums over counts) against overall codes 4, 5, 5, 1, 3:

    >>> table = [[8, 2, 4, 1], [12, 3, 5, 1], [13, 3, 5, 1], [2, 1, 1, 1], [6, 2, 3, 1]]
    >>> r = derived_importance_from_tables([table])
    >>> rows = derived_importance([4.0, 4.0, 13 / 3, 2.0, 3.0], [4, 5, 5, 1, 3])
    >>> r.n_used, r.coefficients == rows.coefficients, r.p_values == rows.p_values
    ((5,), True, True)
    """
    coefs, pvals, ns = [], [], []
    for table in tables:
        rows = np.asarray(table)
        if rows.size == 0:
            rows = rows.reshape(0, 4)
        if rows.ndim != 2 or rows.shape[1] != 4:
            raise ValueError("each table needs rows (score_sum, score_count, overall_code, n)")
        if not np.array_equal(rows, np.round(rows)):
            raise ValueError("table entries must be integers")
        rows = rows.astype(np.int64)
        if np.any(rows[:, 3] < 0) or np.any(rows[rows[:, 3] > 0, 1] < 1):
            raise ValueError("counts must be >= 0 and score counts >= 1")
        rows = rows[rows[:, 3] > 0]
        rho, p, n = _spearman_from_table(rows[:, 0] / rows[:, 1], rows[:, 2], rows[:, 3])
        coefs.append(rho)
        pvals.append(p)
        ns.append(n)
    return DerivedImportance(tuple(coefs), tuple(pvals), tuple(ns), "spearman",
                             _convention("spearman"))


def _spearman_from_table(scores: np.ndarray, overall: np.ndarray,
                         n: np.ndarray) -> tuple[float, float, int]:
    """Spearman's rho, its p-value and the respondents of a (score, overall) -> n table."""
    total = int(n.sum())
    a_values, a_level = np.unique(scores, return_inverse=True)
    b_values, b_level = np.unique(overall, return_inverse=True)
    if total < 3 or a_values.size < 2 or b_values.size < 2:
        return float("nan"), float("nan"), total
    a_counts = np.bincount(a_level, weights=n, minlength=a_values.size)
    b_counts = np.bincount(b_level, weights=n, minlength=b_values.size)
    # Deviations of the mid-ranks from their mean (n + 1) / 2: half-integers, exact.
    mean = (total + 1) / 2.0
    dev_a = np.cumsum(a_counts) - (a_counts - 1) / 2.0 - mean
    dev_b = np.cumsum(b_counts) - (b_counts - 1) / 2.0 - mean
    # numpy.cov's scaling and numpy.corrcoef's two divisions, in their order.
    scale = np.true_divide(1, total - 1)
    cov_ab = float(n @ (dev_a[a_level] * dev_b[b_level])) * scale
    sd_a = np.sqrt(float(a_counts @ (dev_a * dev_a)) * scale)
    sd_b = np.sqrt(float(b_counts @ (dev_b * dev_b)) * scale)
    rho = np.clip(cov_ab / sd_b / sd_a, -1.0, 1.0)
    return float(rho), _spearman_p_value(rho, total), total


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x``, tied values sharing the mean of their positions."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def _level_midranks(level: np.ndarray, n_levels: int) -> np.ndarray:
    """:func:`_midranks` of values given as indices into their sorted distinct values."""
    counts = np.bincount(level, minlength=n_levels)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[level]


def _spearman(rank_a: np.ndarray, rank_b: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value from the mid-ranks of two samples."""
    # The same steps as scipy.stats.spearmanr (correlation of the rank columns, then the
    # t statistic), so the numbers agree to the last bit.
    rho = np.corrcoef(np.column_stack((rank_a, rank_b)), rowvar=False)[1, 0]
    return float(rho), _spearman_p_value(rho, rank_a.size)


def _spearman_p_value(rho: np.floating, n: int) -> float:
    """Two-sided p-value of Spearman's rho over n respondents (Student's t, n - 2 dof)."""
    dof = n - 2
    with np.errstate(divide="ignore"):
        t = rho * np.sqrt((dof / ((rho + 1.0) * (1.0 - rho))).clip(0))
    return float(2 * special.stdtr(dof, -np.abs(t)))


def importance_performance_quadrants(
    importance: Sequence[float],
    performance: Sequence[float],
    labels: Sequence[str],
    *,
    crosshair: Literal["mean", "median", "midpoint"] = "mean",
    importance_midpoint: float | None = None,
    performance_midpoint: float = 50.0,
) -> ImportancePerformance:
    """Importance-Performance quadrants with a stated crosshair rule.

    Parameters
    ----------
    importance, performance : sequence of float
        Importance (e.g. derived Spearman ρ) and performance (e.g. index 0-100) per driver.
    labels : sequence of str
        Driver names.
    crosshair : {"mean", "median", "midpoint"}, default "mean"
        Where the axes cross: means or medians of the plotted values, or fixed scale midpoints.
    importance_midpoint : float, optional
        Importance cut for ``crosshair="midpoint"`` (required then).
    performance_midpoint : float, default 50.0
        Performance cut for ``crosshair="midpoint"`` (50 on the 0-100 index).

    Returns
    -------
    ImportancePerformance
        Per driver its quadrant; the cuts and crosshair rule.

    Notes
    -----
    High means ≥ cut. Quadrants: high importance & low performance "concentrate here";
    high & high "keep up the good work"; low & low "low priority"; low importance & high
    performance "possible overkill".

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-Performance Analysis. Journal of
    Marketing 41(1), 77-79.

    Examples
    --------
    >>> r = importance_performance_quadrants([0.6, 0.2, 0.5, 0.1], [70, 90, 88, 60],
    ...                                      ["repair", "rent", "safety", "parking"])
    >>> [(p.label, p.quadrant) for p in r.points][0]
    ('repair', 'concentrate here')
    """
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    if not (imp.shape == perf.shape == (len(labels),)):
        raise ValueError("importance, performance and labels must have the same length")
    ok = ~(np.isnan(imp) | np.isnan(perf))
    if crosshair in ("mean", "median") and not ok.any():
        # No item has both values (e.g. a filtered cell where every answer is the same):
        # no crosshair, every point "not classified", and no numpy empty-slice warning.
        i_cut = p_cut = float("nan")
    elif crosshair == "mean":
        i_cut, p_cut = float(imp[ok].mean()), float(perf[ok].mean())
    elif crosshair == "median":
        i_cut, p_cut = float(np.median(imp[ok])), float(np.median(perf[ok]))
    elif crosshair == "midpoint":
        if importance_midpoint is None:
            raise ValueError("crosshair='midpoint' needs importance_midpoint")
        i_cut, p_cut = float(importance_midpoint), float(performance_midpoint)
    else:
        raise ValueError("crosshair must be 'mean', 'median' or 'midpoint'")
    points = tuple(
        IPAPoint(
            str(lab), float(i), float(p),
            "not classified" if np.isnan(i) or np.isnan(p) else QUADRANTS[(i >= i_cut, p >= p_cut)],
        )
        for lab, i, p in zip(labels, imp, perf, strict=True)
    )
    return ImportancePerformance(
        points, i_cut, p_cut, crosshair,
        f"crosshair at the {crosshair} of importance and performance; high means >= cut",
    )
