"""Change of a figure from last year's survey to this year's (independent samples).

Each year's campaign draws its own sample, so the two estimates are independent and the
variance of their difference is the sum of their variances. The change, its normal
interval and P(true change >= 0) (the target 不低于上年, "not lower than last year") are
computed from the two estimates and their standard errors as each year's document reports
them (design-based, with the finite population correction of each year).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erf, sqrt

from analysis.conventions import YEAR_OVER_YEAR_CONVENTION
from analysis.intervals import Interval, interval_from_se

__all__ = ["YearOverYearChange", "year_over_year_change"]


@dataclass(frozen=True, slots=True)
class YearOverYearChange:
    """This year's estimate against last year's.

    ``difference`` = current − previous; ``se`` = sqrt(se_current² + se_previous²);
    ``interval`` the normal interval of the difference; ``probability_not_lower`` =
    P(true change >= 0) = Φ(difference / se); ``not_lower`` whether the estimate is not lower
    than last year's (the target 不低于上年 read on the point estimates, as the indicator
    table reads a target). All None when the figure is not ``comparable`` (wording changed)
    or an estimate or SE is missing.
    """

    current: float | None
    previous: float | None
    comparable: bool
    difference: float | None
    se: float | None
    interval: Interval | None
    probability_not_lower: float | None
    not_lower: bool | None
    convention: str


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + erf(x / sqrt(2.0)))


def year_over_year_change(current: float | None, current_se: float | None,
                          previous: float | None, previous_se: float | None, *,
                          comparable: bool = True,
                          confidence: float = 0.95) -> YearOverYearChange:
    """The change of a figure between two independent surveys.

    Parameters
    ----------
    current, current_se : float or None
        This year's estimate and its standard error.
    previous, previous_se : float or None
        Last year's estimate and its standard error.
    comparable : bool, default True
        False when the figure's wording changed (口径变化): no difference is computed.
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    YearOverYearChange

    Notes
    -----
    d = x₁ − x₀; Var(d) = SE₁² + SE₀² (independent samples, no covariance term); interval
    d ± z SE(d), z the normal quantile; P(true d ≥ 0) = Φ(d / SE(d)) with the true change
    read as Normal(d, SE(d)²) (normal approximation, a flat prior); with SE(d) = 0 it is
    1 if d ≥ 0 else 0.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed., section 5A.14 (difference of
    independent estimates); Kish, L. (1965). Survey Sampling, section 12.10.

    Examples
    --------
    >>> c = year_over_year_change(0.86, 0.02, 0.82, 0.015)
    >>> round(c.difference, 4), round(c.se, 4)
    (0.04, 0.025)
    >>> round(c.interval.low, 4), round(c.interval.high, 4), round(c.probability_not_lower, 4)
    (-0.009, 0.089, 0.9452)
    >>> c.not_lower
    True
    >>> year_over_year_change(0.86, 0.02, 0.82, 0.015, comparable=False).difference is None
    True
    """
    known = None not in (current, current_se, previous, previous_se)
    if not (comparable and known):
        return YearOverYearChange(current, previous, comparable, None, None, None, None, None,
                                  YEAR_OVER_YEAR_CONVENTION)
    difference = float(current) - float(previous)
    se = sqrt(float(current_se) ** 2 + float(previous_se) ** 2)
    interval = interval_from_se(difference, se, confidence)
    probability = (_normal_cdf(difference / se) if se > 0
                   else (1.0 if difference >= 0 else 0.0))
    return YearOverYearChange(
        float(current), float(previous), True, difference, se,
        Interval(difference, interval.low, interval.high, confidence,
                 "normal interval, independent samples"),
        probability, difference >= 0, YEAR_OVER_YEAR_CONVENTION)
