"""The reported estimates of an item: satisfaction rate, linear index and satisfaction score,
each with its SE and interval, and the relations between them.

The score is a linear function of the index (score = 20 + 0.8 × index on a 5-point scale),
so its estimate, SE and interval are the index's transformed; the rate's interval is the
Wilson interval at Kish's effective sample size. Every :class:`Estimate` states its
measure's definition (``convention``) and its interval's (``interval.method``): the texts
of :mod:`analysis.conventions` that :func:`analysis.conventions.scores_conventions` puts
in the scores document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.conventions import (
    INDEX_DEFINITION,
    RATE_DEFINITION,
    SCORE_DEFINITION,
    index_interval_convention,
    rate_interval_convention,
)
from analysis.intervals import Interval, interval_from_se, wilson_interval
from analysis.stratified import StratifiedEstimate

__all__ = [
    "Estimate",
    "ItemEstimates",
    "MeasureName",
    "dimension_rate",
    "fpc_effective_n",
    "index_estimate",
    "item_estimates",
    "rate_estimate",
    "score_estimate",
    "score_from_index",
]

MeasureName = Literal["rate", "index", "score"]

#: score = SCORE_AT_INDEX_ZERO + SCORE_PER_INDEX_POINT × index (5-point scale: 20 at code 1,
#: 100 at code 5; index 0 at code 1, 100 at code 5).
SCORE_AT_INDEX_ZERO = 20.0
SCORE_PER_INDEX_POINT = 0.8


@dataclass(frozen=True, slots=True)
class Estimate:
    """One measure as reported: value, SE (with FPC) and interval.

    ``convention`` defines the measure; ``interval.method`` says how the interval was
    computed.
    """

    measure: MeasureName
    estimate: float
    se: float
    interval: Interval
    convention: str


@dataclass(frozen=True, slots=True)
class ItemEstimates:
    """The three reported measures of one item (or cell) and Kish's effective n."""

    rate: Estimate
    index: Estimate
    score: Estimate
    effective_n: float

    def measure(self, name: MeasureName) -> Estimate:
        """The estimate of measure ``name`` ("rate", "index" or "score").

        This is the indicator's measure switch: the indicator scores the overall item's
        estimate of the campaign's measure, with that estimate's SE.

        Examples
        --------
        >>> from analysis.stratified import stratified_mean
        >>> e = item_estimates(stratified_mean({"a": [1.0, 1, 0, 1]}, {"a": 40}),
        ...                    stratified_mean({"a": [100.0, 75, 25, 75]}, {"a": 40}))
        >>> e.measure("score").estimate
        75.0
        """
        if name == "rate":
            return self.rate
        if name == "index":
            return self.index
        if name == "score":
            return self.score
        raise ValueError(f"unknown measure {name!r}; use 'rate', 'index' or 'score'")


def score_from_index(index: float) -> float:
    """Satisfaction score 满意度得分 of a linear index on a 5-point scale.

    Parameters
    ----------
    index : float
        Linear index (mean − 1)/4 × 100, or an interval bound of it.

    Returns
    -------
    float
        20 + 0.8 × index.

    Notes
    -----
    score = (100 n5 + 80 n4 + 60 n3 + 40 n2 + 20 n1)/N_valid = 20 × mean and
    index = 25 × (mean − 1), so score = 20 + 0.8 × index (METHODS.md section 2). Being
    linear, it maps the index's estimate, SE (× 0.8) and interval bounds to the score's.

    References
    ----------
    METHODS.md section 2.

    Examples
    --------
    The METHODS.md worked example: index 86.75, score 89.4.

    >>> round(score_from_index(86.75), 10)
    89.4
    """
    return SCORE_AT_INDEX_ZERO + SCORE_PER_INDEX_POINT * index


def rate_estimate(rate: StratifiedEstimate, confidence: float = 0.95) -> Estimate:
    """The stratified satisfaction rate with its Wilson interval at Kish's effective n.

    Parameters
    ----------
    rate : StratifiedEstimate
        Stratified satisfaction rate (``estimate``, ``se`` with FPC, ``effective_n``).
    confidence : float, default 0.95
        Interval level.

    Returns
    -------
    Estimate
        measure "rate", the rate, its SE, the Wilson interval, :data:`RATE_DEFINITION`.

    Notes
    -----
    Wilson score interval of k/n at n* = 1 / Σ_h W_h² (1 − f_h)/r_h (W_h = N_h/N,
    f_h = r_h/N_h) and k = rate × n*: Kish's effective n = (Σw)²/Σw² = 1/Σ_h W_h²/r_h
    with each stratum's finite-population correction, so the interval, the reported SE and
    P(true ≥ target) all use the FPC. It solves (p̂ − p)² = z² Σ_h W_h² (1 − f_h) p(1 − p)/r_h,
    the Wilson equation with the stratified variance under a common p(1 − p) (Kish's
    assumption). Within one stratum n* = r N/(N − r), the Wilson interval with the
    without-replacement variance; with a census (every f_h = 1) the interval is the point.

    References
    ----------
    Kish, L. (1965). Survey Sampling, sections 2.2 and 11.7; Wilson, E. B. (1927). JASA 22,
    209-212.

    Examples
    --------
    The METHODS.md worked example (180 satisfied of 200 valid answers, one stratum):

    >>> from analysis.stratified import stratified_mean
    >>> e = rate_estimate(stratified_mean({"a": [1.0] * 180 + [0.0] * 20}, {"a": 10**9}))
    >>> round(e.interval.low, 4), round(e.interval.high, 4)
    (0.8506, 0.9343)
    """
    n_star = fpc_effective_n(rate)
    if n_star == float("inf"):
        low = high = rate.estimate
    else:
        wilson = wilson_interval(min(rate.estimate * n_star, n_star), n_star, confidence)
        low, high = wilson.low, wilson.high
    return Estimate("rate", rate.estimate, rate.se,
                    Interval(rate.estimate, low, high, confidence,
                             rate_interval_convention(confidence)),
                    RATE_DEFINITION)


def fpc_effective_n(estimate: StratifiedEstimate) -> float:
    """Kish's effective sample size with each stratum's finite-population correction.

    Parameters
    ----------
    estimate : StratifiedEstimate
        A stratified estimate (its strata's N_h and r_h are used).

    Returns
    -------
    float
        n* = 1 / Σ_h W_h² (1 − f_h)/r_h; ``inf`` when every stratum is a census.

    Notes
    -----
    Without the FPC this is Kish's (Σw)²/Σw² with w_h = N_h/r_h, i.e. 1/Σ_h W_h²/r_h.
    With unequal weights within a stratum (raking) each term is multiplied by the stratum's
    Kish design effect d_h = r_h Σw²/(Σw)²: n* = 1/Σ_h W_h² (1 − f_h) d_h/r_h.

    References
    ----------
    Kish, L. (1965). Survey Sampling, sections 2.2 and 11.7.

    Examples
    --------
    >>> from analysis.stratified import stratified_mean
    >>> fpc_effective_n(stratified_mean({"a": [1.0, 0, 1, 1]}, {"a": 8}))
    8.0
    """
    total = sum(s.population_share**2 * (1 - s.respondents / s.population) * s.weighting_deff
                / s.respondents for s in estimate.strata)
    return 1.0 / total if total > 0 else float("inf")


def index_estimate(index: StratifiedEstimate, confidence: float = 0.95) -> Estimate:
    """The stratified linear index with its normal interval.

    Parameters
    ----------
    index : StratifiedEstimate
        Stratified linear index (0-100) with its SE (with FPC).
    confidence : float, default 0.95
        Interval level.

    Returns
    -------
    Estimate
        measure "index", the index, its SE, index ± z·SE, :data:`INDEX_DEFINITION`.

    Notes
    -----
    index ± z_{(1+confidence)/2} × SE, SE = sqrt(Σ_h (N_h/N)² (1 − f_h) s_h²/r_h).

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed., section 5.3.

    Examples
    --------
    >>> from analysis.stratified import stratified_mean
    >>> e = index_estimate(stratified_mean({"a": [100.0, 75, 75, 50]}, {"a": 10**9}))
    >>> round(e.estimate, 2), round(e.interval.low, 2), round(e.interval.high, 2)
    (75.0, 55.0, 95.0)
    """
    normal = interval_from_se(index.estimate, index.se, confidence)
    return Estimate("index", index.estimate, index.se,
                    Interval(normal.estimate, normal.low, normal.high, confidence,
                             index_interval_convention(confidence)),
                    INDEX_DEFINITION)


def score_estimate(index: Estimate) -> Estimate:
    """The satisfaction score of an index estimate: estimate, SE and interval transformed.

    Parameters
    ----------
    index : Estimate
        An index estimate (:func:`index_estimate`).

    Returns
    -------
    Estimate
        measure "score": 20 + 0.8 × index, SE 0.8 × SE(index), interval bounds
        20 + 0.8 × the index's bounds; :data:`SCORE_DEFINITION`.

    Notes
    -----
    See :func:`score_from_index`.

    References
    ----------
    METHODS.md section 2.

    Examples
    --------
    >>> from analysis.stratified import stratified_mean
    >>> s = score_estimate(index_estimate(stratified_mean({"a": [100.0, 75, 75, 50]},
    ...                                                  {"a": 10**9})))
    >>> round(s.estimate, 2), round(s.interval.low, 2), round(s.interval.high, 2)
    (80.0, 64.0, 96.0)
    """
    bounds = index.interval
    return Estimate("score", score_from_index(index.estimate), SCORE_PER_INDEX_POINT * index.se,
                    Interval(score_from_index(index.estimate), score_from_index(bounds.low),
                             score_from_index(bounds.high), bounds.confidence, bounds.method),
                    SCORE_DEFINITION)


def item_estimates(rate: StratifiedEstimate, index: StratifiedEstimate,
                   confidence: float = 0.95) -> ItemEstimates:
    """Rate, index and score of one item as reported, from its stratified estimates.

    Parameters
    ----------
    rate, index : StratifiedEstimate
        The item's stratified satisfaction rate and linear index.
    confidence : float, default 0.95
        Interval level.

    Returns
    -------
    ItemEstimates
        :func:`rate_estimate`, :func:`index_estimate`, :func:`score_estimate` and the
        rate's Kish effective n.

    Notes
    -----
    Rate: Wilson interval at n_eff; index: normal interval from the stratified SE with FPC;
    score = 20 + 0.8 × index (estimate, SE, interval).

    References
    ----------
    METHODS.md sections 2 and 4.

    Examples
    --------
    >>> from analysis.stratified import stratified_mean
    >>> e = item_estimates(stratified_mean({"a": [1.0, 1, 0, 1]}, {"a": 40}),
    ...                    stratified_mean({"a": [100.0, 75, 25, 75]}, {"a": 40}))
    >>> e.rate.estimate, e.index.estimate, e.score.estimate, e.effective_n
    (0.75, 68.75, 75.0, 4.0)
    """
    index_ = index_estimate(index, confidence)
    return ItemEstimates(rate_estimate(rate, confidence), index_, score_estimate(index_),
                         rate.effective_n)


def dimension_rate(item_rates: Sequence[float]) -> float:
    """Satisfaction rate of a dimension: the equal-weight mean of its item rates.

    Parameters
    ----------
    item_rates : sequence of float
        The (stratified) satisfaction rates of the dimension's items.

    Returns
    -------
    float

    Notes
    -----
    Σ_j rate_j / J, the rate beside the dimension index (itself the equal-weight mean of
    the item indices); see :data:`analysis.conventions.DIMENSION_CONVENTION`.

    References
    ----------
    GB/T 19038-2009 (customer satisfaction measurement), dimension (二级指标) scores.

    Examples
    --------
    >>> dimension_rate([0.75, 0.85])
    0.8
    """
    if not item_rates:
        raise ValueError("a dimension needs at least one item rate")
    return sum(item_rates) / len(item_rates)
