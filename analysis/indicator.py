"""The satisfaction indicator score of a performance evaluation (绩效评价满意度指标得分).

Every input is configuration: the measure (rate, score or index), the target, the points
and the scoring rule.  Defaults follow METHODS.md section 5 (rate, target 0.90, 10 points,
proportional rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import TYPE_CHECKING, Literal

from scipy import special

from analysis.conventions import INDICATOR_MEASURE_CONVENTION

if TYPE_CHECKING:  # only annotates: the campaign settings' users need no estimates module
    from analysis.estimates import ItemEstimates

__all__ = [
    "INDICATOR_MEASURE_CONVENTION",
    "ProportionalRule",
    "StepwiseRule",
    "BandRule",
    "IndicatorScore",
    "indicator_score",
    "indicator_from_estimates",
    "probability_meets_target",
    "band_rule",
]

MeasureName = Literal["rate", "score", "index"]

@dataclass(frozen=True, slots=True)
class ProportionalRule:
    """points × min(1, actual / target)."""


@dataclass(frozen=True, slots=True)
class StepwiseRule:
    """Deduct ``deduction_per_point`` per percentage point (rate) or scale point (score,
    index) below target, never below ``floor``; ``whole_points`` counts only whole points
    of shortfall (rounded up) instead of fractional ones."""

    deduction_per_point: float
    floor: float = 0.0
    whole_points: bool = False


@dataclass(frozen=True, slots=True)
class BandRule:
    """Bands as (threshold, points) pairs: the points of the highest threshold ≤ actual;
    0 below every threshold."""

    bands: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    points_earned: float
    points: float
    actual: float
    target: float
    measure: str
    rule: str
    probability_meets_target: float | None
    convention: str
    se: float | None = None  # the SE of ``actual`` the probability came from


def _shortfall_in_points(actual: float, target: float, measure: str) -> float:
    unit = 0.01 if measure == "rate" else 1.0
    return max(0.0, round((target - actual) / unit, 9))


def _proportional_points(actual: float, target: float, points: float) -> tuple[float, str]:
    return points * min(1.0, actual / target), "proportional: points * min(1, actual/target)"


def _stepwise_points(rule: StepwiseRule, actual: float, target: float, points: float,
                     measure: str) -> tuple[float, str]:
    s = _shortfall_in_points(actual, target, measure)
    if rule.whole_points:
        s = float(ceil(s))
    earned = max(rule.floor, points - rule.deduction_per_point * s) if s > 0 else points
    unit = "percentage point" if measure == "rate" else "point"
    return earned, (f"stepwise: -{rule.deduction_per_point:g} per {unit} below target, "
                    f"floor {rule.floor:g}" + (", whole points" if rule.whole_points else ""))


def _band_points(rule: BandRule, actual: float) -> tuple[float, str]:
    bands = sorted(rule.bands, reverse=True)
    earned = next((float(band_points) for threshold, band_points in bands
                   if actual >= threshold), 0.0)
    return earned, "bands: " + ", ".join(f">={t:g}: {p:g}" for t, p in bands)


def probability_meets_target(actual: float, target: float, se: float) -> float:
    """P(true value ≥ target) with the true value read as Normal(actual, se²).

    Parameters
    ----------
    actual : float
        Measured value.
    target : float
        Target on the same scale.
    se : float
        Standard error of ``actual`` (non-negative).

    Returns
    -------
    float
        Φ((actual − target)/se); with se = 0, 1 if actual ≥ target else 0.

    Notes
    -----
    The normal sampling distribution read as a flat-prior posterior (see
    :func:`indicator_score`).

    References
    ----------
    METHODS.md section 5.

    Examples
    --------
    >>> round(probability_meets_target(0.92, 0.90, 0.01), 4)
    0.9772
    """
    if se < 0:
        raise ValueError("se must be non-negative")
    if se == 0:
        return 1.0 if actual >= target else 0.0
    return float(special.ndtr((actual - target) / se))


def indicator_score(
    actual: float,
    target: float = 0.90,
    points: float = 10.0,
    rule: ProportionalRule | StepwiseRule | BandRule | None = None,
    *,
    measure: MeasureName = "rate",
    se: float | None = None,
) -> IndicatorScore:
    """Points earned by the satisfaction indicator, and P(true value ≥ target).

    Parameters
    ----------
    actual : float
        Measured value: a rate in [0, 1], or a score / index on 0-100.
    target : float, default 0.90
        Target on the same scale as ``actual``.
    points : float, default 10.0
        Points of the indicator.
    rule : ProportionalRule, StepwiseRule or BandRule, optional
        Scoring rule; default :class:`ProportionalRule`.
    measure : {"rate", "score", "index"}, default "rate"
        Which measure ``actual`` is (sets the unit of a "point" of shortfall: one percentage
        point for a rate, one scale point for score and index).
    se : float, optional
        Standard error of ``actual`` (e.g. the stratified SE with FPC). When given,
        ``probability_meets_target`` = Φ((actual − target)/se).

    Returns
    -------
    IndicatorScore

    Notes
    -----
    Proportional: points × min(1, actual/target).
    Stepwise: max(floor, points − d × s) with s the shortfall in points (⌈s⌉ if
    ``whole_points``), full points at or above target.
    Bands: points of the highest threshold ≤ actual.
    The probability treats the true value as Normal(actual, se²) — the normal sampling
    distribution read as a flat-prior posterior; it is an approximation that ignores
    bias (e.g. non-response) and is unreliable for rates very close to 0 or 1 or tiny samples.

    References
    ----------
    METHODS.md section 5; Ministry of Finance (2020) 财预〔2020〕10号, 项目支出绩效评价管理办法.

    Examples
    --------
    >>> round(indicator_score(0.88, 0.90, 10).points_earned, 2)
    9.78
    >>> indicator_score(0.88, 0.90, 10, StepwiseRule(deduction_per_point=0.5)).points_earned
    9.0
    """
    rule = ProportionalRule() if rule is None else rule
    if measure not in ("rate", "score", "index"):
        raise ValueError("measure must be 'rate', 'score' or 'index'")
    if target <= 0 or points < 0:
        raise ValueError("target must be positive and points non-negative")
    if isinstance(rule, ProportionalRule):
        earned, rule_text = _proportional_points(actual, target, points)
    elif isinstance(rule, StepwiseRule):
        earned, rule_text = _stepwise_points(rule, actual, target, points, measure)
    elif isinstance(rule, BandRule):
        earned, rule_text = _band_points(rule, actual)
    else:
        raise TypeError("rule must be ProportionalRule, StepwiseRule or BandRule")
    prob = None if se is None else probability_meets_target(actual, target, se)
    return IndicatorScore(
        points_earned=float(earned),
        points=float(points),
        actual=float(actual),
        target=float(target),
        measure=measure,
        rule=rule_text,
        probability_meets_target=prob,
        convention=f"measure {measure}; {rule_text}; P(true >= target) = "
        "Phi((actual-target)/se), normal approximation",
        se=None if se is None else float(se),
    )


def indicator_from_estimates(
    estimates: ItemEstimates,
    measure: MeasureName = "rate",
    target: float = 0.90,
    points: float = 10.0,
    rule: ProportionalRule | StepwiseRule | BandRule | None = None,
) -> IndicatorScore:
    """The indicator score of an item's estimate of ``measure``, with that estimate's SE.

    Parameters
    ----------
    estimates : ItemEstimates
        The overall item's reported estimates (``ItemStatistics.estimates``).
    measure : {"rate", "index", "score"}, default "rate"
        Which of them the indicator scores (the campaign's setting).
    target, points, rule
        As :func:`indicator_score`; ``target`` on the scale of ``measure``.

    Returns
    -------
    IndicatorScore
        With ``actual`` and ``se`` of the chosen measure (the score's SE is 0.8 × the
        index's).

    Notes
    -----
    The measure switch of :data:`INDICATOR_MEASURE_CONVENTION`: rate → the stratified rate
    and its SE; index → the stratified index and its SE; score → 20 + 0.8 × index and
    0.8 × SE.

    References
    ----------
    METHODS.md section 5.

    Examples
    --------
    >>> from analysis.estimates import item_estimates
    >>> from analysis.stratified import stratified_mean
    >>> e = item_estimates(stratified_mean({"a": [1.0, 1, 0, 1]}, {"a": 40}),
    ...                    stratified_mean({"a": [100.0, 75, 25, 75]}, {"a": 40}))
    >>> s = indicator_from_estimates(e, "score", target=85.0)
    >>> s.actual, round(s.points_earned, 4)
    (75.0, 8.8235)
    """
    chosen = estimates.measure(measure)
    return indicator_score(chosen.estimate, target, points, rule, measure=measure,
                           se=chosen.se)


def band_rule(bands: Sequence[tuple[float, float]]) -> BandRule:
    """Build a :class:`BandRule` from (threshold, points) pairs.

    Parameters
    ----------
    bands : sequence of (float, float)
        Threshold and points of each band.

    Returns
    -------
    BandRule

    Notes
    -----
    Points earned = points of the highest threshold ≤ actual, else 0.

    References
    ----------
    METHODS.md section 5.

    Examples
    --------
    >>> indicator_score(0.86, rule=band_rule([(0.9, 10), (0.85, 8), (0.8, 6)])).points_earned
    8.0
    """
    return BandRule(tuple((float(t), float(p)) for t, p in bands))
