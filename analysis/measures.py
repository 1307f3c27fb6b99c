"""Item and group measures for a 5-point satisfaction item.

Scale codes (METHODS.md section 1): 5 非常满意, 4 满意, 3 一般, 2 不满意, 1 非常不满意.
The not-applicable code (不清楚/不适用, default 9) and missing answers (NaN or None) are never
part of a denominator; they are reported as their own shares of all questionnaires.
一般 (3) is a valid answer that counts as *not satisfied*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CategoryCounts",
    "ItemSummary",
    "Measure",
    "category_counts",
    "item_summary",
    "summary_from_counts",
    "satisfaction_rate",
    "satisfaction_score",
    "linear_index",
]

#: Default points of the satisfaction-score scheme, for codes 1..5.
SCORE_POINTS = (20.0, 40.0, 60.0, 80.0, 100.0)


@dataclass(frozen=True, slots=True)
class CategoryCounts:
    """Answer counts of one item.

    ``counts[c - 1]`` is the number of valid answers with code ``c`` (1..scale_points).
    """

    counts: tuple[int, ...]
    n_na: int
    n_missing: int

    @property
    def n_valid(self) -> int:
        return int(sum(self.counts))

    @property
    def n_total(self) -> int:
        return self.n_valid + self.n_na + self.n_missing


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """Measures of one item or group; see :func:`item_summary`."""

    counts: tuple[int, ...]
    n_valid: int
    n_na: int
    n_missing: int
    n_total: int
    rate: float
    score: float
    mean: float
    index: float
    na_share: float
    missing_share: float
    convention: str


def _as_code_array(codes) -> np.ndarray:
    """Codes as a float array; ``None`` becomes NaN."""
    if isinstance(codes, np.ndarray) and codes.dtype.kind in "iuf":
        return codes.astype(float, copy=False)
    return np.asarray(
        [np.nan if c is None else c for c in np.ravel(np.asarray(codes, dtype=object))],
        dtype=float,
    )


def category_counts(codes, *, na_code: int = 9, scale_points: int = 5) -> CategoryCounts:
    """Count valid answers per code, not-applicable answers and missing answers.

    Parameters
    ----------
    codes : array_like
        Answer codes of one item: integers 1..``scale_points``, ``na_code``, or NaN/None for a
        missing answer.
    na_code : int, default 9
        Code of 不清楚/不适用 (not applicable).
    scale_points : int, default 5
        Number of scale points k.

    Returns
    -------
    CategoryCounts
        ``counts`` (index c-1 holds code c), ``n_na``, ``n_missing``.

    Notes
    -----
    Any other value raises ``ValueError``: an unknown code is a data error, not an answer.

    References
    ----------
    METHODS.md section 1 (scale and codes).

    Examples
    --------
    >>> c = category_counts([5, 4, 4, 3, 9, None])
    >>> c.counts, c.n_na, c.n_missing, c.n_valid
    ((0, 0, 1, 2, 1), 1, 1, 4)
    """
    values = _as_code_array(codes)
    missing = np.isnan(values)
    na = values == na_code
    valid = ~(missing | na)
    valid_values = values[valid]
    if valid_values.size and (
        np.any(valid_values != np.round(valid_values))
        or valid_values.min() < 1
        or valid_values.max() > scale_points
    ):
        bad = sorted(set(valid_values[(valid_values < 1) | (valid_values > scale_points)
                                      | (valid_values != np.round(valid_values))].tolist()))
        raise ValueError(f"codes outside 1..{scale_points} and not the NA code {na_code}: {bad}")
    counts = np.bincount(valid_values.astype(np.int64) - 1, minlength=scale_points)
    return CategoryCounts(
        counts=tuple(int(c) for c in counts),
        n_na=int(na.sum()),
        n_missing=int(missing.sum()),
    )


def summary_from_counts(
    counts: Sequence[int],
    *,
    n_na: int = 0,
    n_missing: int = 0,
    satisfied_codes: Sequence[int] = (4, 5),
    score_points: Sequence[float] = SCORE_POINTS,
) -> ItemSummary:
    """All item measures from the category counts.

    Parameters
    ----------
    counts : sequence of int
        ``counts[c - 1]`` = number of valid answers with code c, for c = 1..k.
    n_na, n_missing : int, default 0
        Not-applicable and missing answers (reported, never in a denominator).
    satisfied_codes : sequence of int, default (4, 5)
        Codes counted as satisfied (top-2 box).
    score_points : sequence of float, default (20, 40, 60, 80, 100)
        Points of codes 1..k in the satisfaction score.

    Returns
    -------
    ItemSummary
        counts, n_valid, n_na, n_missing, n_total, rate, score, mean, index, na_share,
        missing_share and the convention text. Measures are NaN when ``n_valid`` is 0.

    Notes
    -----
    With N_valid = Σ n_c:
    rate = Σ_{c in satisfied} n_c / N_valid;
    score = Σ points_c n_c / N_valid (= 20 × mean on the default scheme);
    mean = Σ c n_c / N_valid; index = (mean − 1)/(k − 1) × 100;
    na_share = n_na / n_total, missing_share = n_missing / n_total.

    References
    ----------
    METHODS.md section 2; Fornell et al. (1996) for the linear 0-100 index.

    Examples
    --------
    Worked example of METHODS.md (counts 1, 4, 15, 60, 120 for codes 1..5, 10 不清楚):

    >>> s = summary_from_counts([1, 4, 15, 60, 120], n_na=10)
    >>> s.n_valid, round(s.rate, 3), round(s.score, 1), round(s.mean, 2), round(s.index, 2)
    (200, 0.9, 89.4, 4.47, 86.75)
    """
    counts_arr = np.asarray(counts, dtype=np.int64)
    k = counts_arr.size
    if k < 2 or np.any(counts_arr < 0):
        raise ValueError("counts must hold at least two non-negative category counts")
    points = np.asarray(score_points, dtype=float)
    if points.size != k:
        raise ValueError(f"score_points needs {k} values, got {points.size}")
    satisfied = np.zeros(k, dtype=bool)
    for code in satisfied_codes:
        if not 1 <= code <= k:
            raise ValueError(f"satisfied code {code} outside 1..{k}")
        satisfied[code - 1] = True
    n_valid = int(counts_arr.sum())
    n_total = n_valid + int(n_na) + int(n_missing)
    if n_valid:
        rate = float(counts_arr[satisfied].sum() / n_valid)
        mean = float(counts_arr @ np.arange(1, k + 1) / n_valid)
        score = float(counts_arr @ points / n_valid)
        index = (mean - 1.0) / (k - 1) * 100.0
    else:
        rate = mean = score = index = float("nan")
    top = "+".join(str(c) for c in sorted(satisfied_codes, reverse=True))
    convention = (
        f"rate: top-box ({top})/N_valid; score: points {tuple(points.tolist())} for codes "
        f"1..{k} averaged over N_valid; index: (mean-1)/({k}-1)*100; NA and missing excluded "
        "from every denominator, shares relative to all questionnaires"
    )
    return ItemSummary(
        counts=tuple(int(c) for c in counts_arr),
        n_valid=n_valid,
        n_na=int(n_na),
        n_missing=int(n_missing),
        n_total=n_total,
        rate=rate,
        score=score,
        mean=mean,
        index=index,
        na_share=float(n_na / n_total) if n_total else float("nan"),
        missing_share=float(n_missing / n_total) if n_total else float("nan"),
        convention=convention,
    )


def item_summary(
    codes,
    *,
    na_code: int = 9,
    scale_points: int = 5,
    satisfied_codes: Sequence[int] = (4, 5),
    score_points: Sequence[float] = SCORE_POINTS,
) -> ItemSummary:
    """Satisfaction rate, score, mean, linear index and NA share of one item or group.

    Parameters
    ----------
    codes : array_like
        Answer codes (1..k, ``na_code``, NaN/None for missing).
    na_code : int, default 9
        Not-applicable code.
    scale_points : int, default 5
        Number of scale points k.
    satisfied_codes : sequence of int, default (4, 5)
        Codes counted as satisfied.
    score_points : sequence of float, default (20, 40, 60, 80, 100)
        Points per code 1..k for the satisfaction score.

    Returns
    -------
    ItemSummary
        See :func:`summary_from_counts`.

    Notes
    -----
    rate = (n5 + n4)/N_valid, score = (100 n5 + 80 n4 + 60 n3 + 40 n2 + 20 n1)/N_valid,
    index = (mean − 1)/(k − 1) × 100, with N_valid = n5 + n4 + n3 + n2 + n1.

    References
    ----------
    METHODS.md section 2.

    Examples
    --------
    >>> s = item_summary([5, 5, 4, 3, 2, 9, None])
    >>> s.n_valid, s.n_na, s.n_missing, s.rate, s.score, s.index
    (5, 1, 1, 0.6, 76.0, 70.0)
    """
    c = category_counts(codes, na_code=na_code, scale_points=scale_points)
    return summary_from_counts(
        c.counts,
        n_na=c.n_na,
        n_missing=c.n_missing,
        satisfied_codes=satisfied_codes,
        score_points=score_points,
    )


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure value with its valid base and convention."""

    value: float
    n_valid: int
    convention: str


def satisfaction_rate(codes, *, na_code: int = 9, scale_points: int = 5) -> Measure:
    """Satisfaction rate 满意率: share of 非常满意 + 满意 among valid answers.

    Parameters
    ----------
    codes : array_like
        Answer codes (1..k, ``na_code``, NaN/None).
    na_code : int, default 9
        Not-applicable code.
    scale_points : int, default 5
        Number of scale points k.

    Returns
    -------
    Measure
        value in [0, 1] (NaN without valid answers), n_valid, convention.

    Notes
    -----
    rate = (n5 + n4) / N_valid; 一般 (3) is not satisfied.

    References
    ----------
    METHODS.md section 2.

    Examples
    --------
    >>> satisfaction_rate([5, 4, 3, 9]).value
    0.6666666666666666
    """
    s = item_summary(codes, na_code=na_code, scale_points=scale_points)
    return Measure(s.rate, s.n_valid, "top-2 box (5+4)/N_valid, NA and missing excluded")


def satisfaction_score(codes, *, na_code: int = 9, scale_points: int = 5) -> Measure:
    """Satisfaction score 满意度得分 on the 100/80/60/40/20 scheme.

    Parameters
    ----------
    codes : array_like
        Answer codes (1..5, ``na_code``, NaN/None).
    na_code : int, default 9
        Not-applicable code.
    scale_points : int, default 5
        Number of scale points (the default scheme needs 5).

    Returns
    -------
    Measure
        value in [20, 100], n_valid, convention.

    Notes
    -----
    score = (100 n5 + 80 n4 + 60 n3 + 40 n2 + 20 n1) / N_valid = 20 × mean.

    References
    ----------
    METHODS.md section 2.

    Examples
    --------
    >>> satisfaction_score([5, 4, 3, 9]).value
    80.0
    """
    s = item_summary(codes, na_code=na_code, scale_points=scale_points)
    return Measure(s.score, s.n_valid, "score (100n5+80n4+60n3+40n2+20n1)/N_valid")


def linear_index(codes, *, na_code: int = 9, scale_points: int = 5) -> Measure:
    """Linear 0-100 index (mean − 1)/(k − 1) × 100.

    Parameters
    ----------
    codes : array_like
        Answer codes (1..k, ``na_code``, NaN/None).
    na_code : int, default 9
        Not-applicable code.
    scale_points : int, default 5
        Number of scale points k.

    Returns
    -------
    Measure
        value in [0, 100], n_valid, convention.

    Notes
    -----
    index = (mean − 1)/(k − 1) × 100, the transformation used by the ACSI.

    References
    ----------
    Fornell, C. et al. (1996). The American Customer Satisfaction Index. Journal of
    Marketing 60(4), 7-18.

    Examples
    --------
    >>> linear_index([5, 4, 3, 9]).value
    75.0
    """
    s = item_summary(
        codes,
        na_code=na_code,
        scale_points=scale_points,
        score_points=np.linspace(20, 100, scale_points),
    )
    return Measure(s.index, s.n_valid, f"linear index (mean-1)/({scale_points}-1)*100")
