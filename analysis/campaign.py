"""One call for the full set of campaign statistics from a response matrix.

Design choices (all stated in the result's ``convention``):

* item measures are stratified (N_h/N population shares) with SE with and without FPC;
  each item also carries its reported estimates (:mod:`analysis.estimates`): the rate
  with the Wilson interval at Kish's effective n, the index with its normal interval, and
  the score = 20 + 0.8 × index;
* item intervals are bootstrap intervals drawn as multinomial category counts per stratum
  (exactly the stratified row bootstrap, at O(resamples × strata × categories) per item);
* the composite (overall) index is a linear function of the stratified item means, so its
  SE is the Taylor-linearised stratified SE (with FPC) and its interval a normal interval —
  a row bootstrap of the composite would cost O(resamples × respondents);
* dimension rates are the equal-weight means of their item rates, beside the indices;
* reliability uses pairwise deletion over all items except the overall item;
* drivers: Spearman correlation of each dimension score (respondent mean of the dimension's
  valid answers) with the overall item; IPA from those and the dimension indices;
* the indicator uses the overall item's stratified measure (the rate by default).

:func:`campaign_statistics` is a short pipeline of functions of one statistic each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.bootstrap import bootstrap_counts_bounds
from analysis.composite import CompositeIndex, composite_index
from analysis.conventions import COMPOSITE_CONVENTION, DIMENSION_CONVENTION
from analysis.drivers import (
    DerivedImportance,
    ImportancePerformance,
    derived_importance,
    importance_performance_quadrants,
)
from analysis.estimates import (
    ItemEstimates,
    MeasureName,
    dimension_rate,
    item_estimates,
)
from analysis.indicator import (
    BandRule,
    IndicatorScore,
    ProportionalRule,
    StepwiseRule,
    indicator_from_estimates,
)
from analysis.intervals import Interval, interval_from_se
from analysis.linearisation import dimension_standard_errors, linearised_se
from analysis.measures import ItemSummary
from analysis.reliability import CronbachAlpha, cronbach_alpha
from analysis.response_table import ResponseTable, response_table
from analysis.stratified import StratifiedEstimate, stratified_mean_from_moments

__all__ = ["DimensionStatistics", "ItemStatistics",
           "CampaignStatistics", "campaign_statistics", "dimension_scores",
           "linearised_composite_se", "stratum_moments"]

@dataclass(frozen=True, slots=True)
class ItemStatistics:
    """One item: unweighted summary, per-stratum summaries, stratified rate and index, and
    the reported rate, index and score with their intervals (``estimates``)."""

    name: str
    summary: ItemSummary
    by_stratum: tuple[ItemSummary, ...]
    rate: StratifiedEstimate
    rate_interval: Interval | None  # None when computed with item_intervals=False
    index: StratifiedEstimate
    index_interval: Interval | None
    estimates: ItemEstimates


@dataclass(frozen=True, slots=True)
class DimensionStatistics:
    """One dimension: its index (as in ``composite``), its rate and its item rows."""

    name: str
    index: float
    rate: float
    items: tuple[int, ...]
    convention: str
    #: Linearised SEs (with FPC) of the index and rate; NaN where not computed.
    index_se: float = float("nan")
    rate_se: float = float("nan")


@dataclass(frozen=True, slots=True)
class CampaignStatistics:
    strata: tuple[object, ...]
    items: tuple[ItemStatistics, ...]
    composite: CompositeIndex
    composite_se: float
    composite_interval: Interval
    reliability: CronbachAlpha | None
    drivers: DerivedImportance | None  # None when computed with drivers=False
    ipa: ImportancePerformance | None
    indicator: IndicatorScore
    n_respondents: int
    convention: str
    dimensions: tuple[DimensionStatistics, ...]
    composite_convention: str


_INDEX_VALUES = np.array([0.0, 25.0, 50.0, 75.0, 100.0])
_RATE_VALUES = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
_CODE_VALUES = np.arange(1, 6, dtype=float)


def campaign_statistics(
    responses,
    strata: Sequence[object],
    population_by_stratum: Mapping[object, float],
    dimensions: Mapping[str, Sequence[int]],
    overall_item: int,
    *,
    item_names: Sequence[str] | None = None,
    na_code: int = 9,
    n_resamples: int = 2000,
    bootstrap_method: Literal["bca", "percentile", "basic"] = "bca",
    confidence: float = 0.95,
    seed: int | None = 0,
    dimension_weights: Sequence[float] | None = None,
    weights_method: str = "equal",
    target: float = 0.90,
    points: float = 10.0,
    rule: ProportionalRule | StepwiseRule | BandRule | None = None,
    indicator_measure: MeasureName = "rate",
    crosshair: Literal["mean", "median", "midpoint"] = "mean",
    reliability: bool = True,
    item_intervals: bool = True,
    drivers: bool = True, linearised_ses: bool = True,
) -> CampaignStatistics:
    """Full campaign statistics: items, strata, composite index, reliability, drivers, score.

    Parameters
    ----------
    responses : array_like, shape (n_items, n_respondents)
        Codes 1..5, ``na_code`` or NaN (missing).
    strata : sequence, length n_respondents
        Stratum label of every respondent (e.g. "relocated", "rental").
    population_by_stratum : mapping
        Stratum label -> population size N_h.
    dimensions : mapping
        Dimension name -> item rows (the overall item should not be in any dimension).
    overall_item : int
        Row of the overall-satisfaction item.
    item_names : sequence of str, optional
        Default "Q1", "Q2", ...
    na_code : int, default 9
        Not-applicable code.
    n_resamples : int, default 2000
        Bootstrap resamples per item.
    bootstrap_method : {"bca", "percentile", "basic"}, default "bca"
        Bootstrap interval type for item rates and indices.
    confidence : float, default 0.95
        Interval level.
    seed : int or None, default 0
        Bootstrap seed.
    dimension_weights : sequence of float, optional
        Dimension weights for the composite (default equal).
    weights_method : str, default "equal"
        Label of how ``dimension_weights`` were obtained.
    target, points, rule
        Indicator configuration (see :func:`analysis.indicator.indicator_score`).
    indicator_measure : {"rate", "index", "score"}, default "rate"
        The overall item's measure the indicator scores (with that measure's SE).
    crosshair : {"mean", "median", "midpoint"}, default "mean"
        IPA crosshair rule (for "midpoint" see Notes).
    reliability : bool, default True
        Compute Cronbach's alpha.
    item_intervals : bool, default True
        Compute the bootstrap intervals of the item rates and indices (``None`` if False).
    drivers : bool, default True
        Compute the derived importance and the IPA quadrants (``None`` if False).
    linearised_ses : bool, default True
        Composite and dimension SEs (NaN if False: raked statistics replace them).

    Returns
    -------
    CampaignStatistics
        Items (with their reported ``estimates``), dimensions (index and rate), composite
        index with SE and interval, reliability, drivers, IPA and the indicator.

    Notes
    -----
    Stratified item mean m_j = Σ_h W_h m_hj (W_h = N_h/N, m_hj over valid answers).
    Composite C = Σ_j c_j m_j + const; linearised variable for respondent i in stratum h:
    z_i = Σ_j c_j v_ij (y_ij − m_hj) r_h / V_hj (v_ij valid indicator, V_hj valid count,
    r_h respondents), Var(C) = Σ_h W_h² (1 − f_h) s²_h(z)/r_h. With ``crosshair="midpoint"``
    the importance cut is 0.5 and the performance cut 50.

    References
    ----------
    Cochran (1977) ch. 5; Wolter, K. (2007). Introduction to Variance Estimation, ch. 6
    (Taylor series); Efron & Tibshirani (1993); METHODS.md.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> codes = rng.choice([1, 2, 3, 4, 5, 9], p=[.02, .03, .1, .35, .45, .05], size=(4, 300))
    >>> strata = np.repeat(["relocated", "rental"], [100, 200])
    >>> s = campaign_statistics(codes, strata, {"relocated": 600, "rental": 2500},
    ...                         {"housing": [0, 1], "service": [2]}, overall_item=3,
    ...                         n_resamples=500)
    >>> len(s.items), 0 <= s.composite.overall <= 100, s.indicator.points
    (4, True, 10.0)
    """
    table = response_table(responses, strata, population_by_stratum, na_code=na_code,
                           item_names=item_names)
    bounds, intervals_method = None, "not computed"
    if item_intervals:
        bounds, intervals_method = _item_bootstrap_bounds(
            table, seed=seed, method=bootstrap_method, n_resamples=n_resamples,
            confidence=confidence)
    items = tuple(_item_statistics(table, j, bounds, intervals_method, confidence)
                  for j in range(len(table.names)))
    composite = composite_index(np.array([it.index.estimate for it in items]), dimensions,
                                dimension_weights=dimension_weights,
                                weights_method=weights_method)
    composite_se = linearised_composite_se(table, composite) if linearised_ses else np.nan
    normal = interval_from_se(composite.overall, composite_se, confidence)
    valid_codes = (np.where(table.valid, table.codes, np.nan) if (reliability or drivers)
                   else None)
    importance, ipa = (_driver_analysis(valid_codes, composite, overall_item, crosshair)
                       if drivers else (None, None))
    return CampaignStatistics(
        strata=tuple(table.labels.tolist()),
        items=items,
        composite=composite,
        composite_se=composite_se,
        composite_interval=Interval(normal.estimate, normal.low, normal.high, confidence,
                                    "normal interval, Taylor-linearised stratified SE with FPC"),
        reliability=_scale_reliability(valid_codes, overall_item) if reliability else None,
        drivers=importance,
        ipa=ipa,
        indicator=indicator_from_estimates(items[overall_item].estimates, indicator_measure,
                                           target, points, rule),
        n_respondents=table.codes.shape[1],
        convention="stratified by population share N_h/N with FPC; item intervals "
        f"{intervals_method}; composite SE Taylor-linearised; NA code {na_code} and missing "
        f"excluded from every denominator; indicator from the overall item's {indicator_measure}",
        dimensions=_dimension_statistics(composite, items, table, linearised_ses),
        composite_convention=COMPOSITE_CONVENTION,
    )


def _item_bootstrap_bounds(table: ResponseTable, *, seed: int | None, method: str,
                          n_resamples: int, confidence: float) -> tuple[dict[str, tuple], str]:
    """Bootstrap bounds of every item's stratified rate and index (multinomial counts), and
    how they were drawn.

    The bounds are {"rate": (low, high, estimate), "index": (...)}, each an array over the
    items; the rate's resamples are drawn before the index's from one generator.
    """
    rng = np.random.default_rng(seed)
    counts = table.counts[..., :5]
    weights = np.broadcast_to(table.population_share, counts.shape[:2])
    bounds = {name: bootstrap_counts_bounds(counts, values, weights, rng=rng, method=method,
                                            n_resamples=n_resamples, confidence=confidence)
              for name, values in (("rate", _RATE_VALUES), ("index", _INDEX_VALUES))}
    return bounds, (f"bootstrap {method} ({n_resamples} resamples, seed {seed}, stratified "
                    "multinomial on category counts)")


def stratum_moments(counts: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-stratum moments of one item from its category counts.

    Parameters
    ----------
    counts : ndarray of int, shape (strata, 5)
        Counts of codes 1..5 in each stratum; every stratum needs a valid answer.

    Returns
    -------
    tuple of ndarray
        r_h valid answers, satisfaction rate, its sample variance, mean code and its sample
        variance (ddof = 1; 0 in a stratum with one answer).

    Notes
    -----
    rate_h = (n4 + n5)/r_h with s² = rate(1 − rate) r/(r − 1); mean_h = Σ_c c n_c/r_h with
    s² = (Σ_c c² n_c/r_h − mean²) r/(r − 1): the moments of the 0/1 and 1..5 answers.

    References
    ----------
    Cochran (1977), section 5.2.

    Examples
    --------
    >>> r, rate, var_rate, mean, var_mean = stratum_moments(np.array([[0, 0, 1, 2, 1]]))
    >>> r.tolist(), rate.tolist(), var_rate.tolist(), mean.tolist(), var_mean.tolist()
    ([4], [0.75], [0.25], [4.0], [0.6666666666666666])
    """
    r = counts.sum(axis=1)
    rate = counts[:, 3:].sum(axis=1) / r
    mean = counts @ _CODE_VALUES / r
    var_rate = np.where(r > 1, rate * (1 - rate) * r / np.maximum(r - 1, 1), 0.0)
    ex2 = counts @ _CODE_VALUES**2 / r
    var_mean = np.where(r > 1, (ex2 - mean**2) * r / np.maximum(r - 1, 1), 0.0)
    return r, rate, var_rate, mean, var_mean


def _item_statistics(table: ResponseTable, item: int, bounds: dict[str, tuple] | None,
                    intervals_method: str, confidence: float) -> ItemStatistics:
    """Summaries, stratified rate and index, bootstrap intervals and reported estimates of
    one item; strata without a valid answer to it drop out of its weights."""
    summary, by_stratum = table.item_summaries(item)
    answered = table.valid_counts[item] > 0
    r, rate_h, var_rate, mean_h, var_mean = stratum_moments(table.counts[item, answered, :5])
    labels, population = table.labels[answered].tolist(), table.population[answered]
    rate = stratified_mean_from_moments(labels, r, rate_h, var_rate, population,
                                        measure="satisfaction rate")
    index = stratified_mean_from_moments(labels, r, (mean_h - 1) * 25, var_mean * 625,
                                         population, measure="index")

    def bootstrap(name: str, estimate: StratifiedEstimate) -> Interval | None:
        if bounds is None:
            return None
        low, high = bounds[name][0][item], bounds[name][1][item]
        return Interval(estimate.estimate, float(low), float(high), confidence,
                        intervals_method)

    return ItemStatistics(name=table.names[item], summary=summary, by_stratum=by_stratum,
                          rate=rate, rate_interval=bootstrap("rate", rate), index=index,
                          index_interval=bootstrap("index", index),
                          estimates=item_estimates(rate, index, confidence))


def _composite_coefficients(composite: CompositeIndex, n_items: int) -> np.ndarray:
    """c_j of C = Σ_j c_j m_j + const, m_j the stratified mean code of item j."""
    coef = np.zeros(n_items)
    total = sum(e.weight for e in composite.dimensions if not np.isnan(e.index))
    for d in composite.dimensions:
        wd = d.weight / total
        for item, u in zip(d.items, d.item_weights, strict=True):
            coef[item] += 25.0 * wd * u
    return coef


def linearised_composite_se(table: ResponseTable, composite: CompositeIndex) -> float:
    """Taylor-linearised stratified SE (with FPC) of the composite index.

    Parameters
    ----------
    table : ResponseTable
        The counted responses (:func:`analysis.response_table.response_table`).
    composite : CompositeIndex
        The composite index of the table's stratified item indices.

    Returns
    -------
    float

    Notes
    -----
    C = Σ_j c_j m_j + const with m_j = Σ_{h∈A_j} W_hj m_hj the stratified mean code of
    item j, A_j the strata with a valid answer to item j and W_hj = N_h/Σ_{g∈A_j} N_g
    (the item's own weights: a stratum without a valid answer to item j drops out of them,
    exactly as in the item's pooled estimate). Linearised variable of respondent i in
    stratum h: z_i = Σ_j c_j W_hj v_ij (y_ij − m_hj) r_h / V_hj (v_ij valid indicator,
    V_hj valid count, m_hj stratum mean code, r_h respondents);
    Var(C) = Σ_h (1 − f_h) s²_h(z)/r_h with f_h = r_h/N_h. This is the linearisation of
    the ratio estimators m_hj = Ŷ_hj/V̂_hj that R's ``survey`` package computes
    (``svytotal`` + ``svycontrast``; reference in ``tests/analysis/data/composite_se``).
    For a composite of one item without NA answers it equals that item's stratified SE.

    References
    ----------
    Wolter, K. (2007). Introduction to Variance Estimation, ch. 6 (Taylor series).

    Examples
    --------
    >>> from analysis.response_table import response_table
    >>> t = response_table([[5, 4, 3, 4, 5, 2]], list("aaabbb"), {"a": 30, "b": 60})
    >>> c = composite_index([62.5], {"d": [0]})
    >>> round(linearised_composite_se(t, c), 4)
    15.036

    The same as the item index's stratified SE:

    >>> from analysis.stratified import stratified_mean
    >>> index = stratified_mean({"a": [100, 75, 50], "b": [75, 100, 25]}, {"a": 30, "b": 60})
    >>> round(index.se, 4)
    15.036
    """
    return linearised_se(table, _composite_coefficients(composite, len(table.names)),
                         _CODE_VALUES)


def _scale_reliability(valid_codes: np.ndarray, overall_item: int) -> CronbachAlpha | None:
    """Cronbach's alpha (pairwise) of all items but the overall one; None below two items."""
    scale_items = [j for j in range(valid_codes.shape[0]) if j != overall_item]
    if len(scale_items) < 2:
        return None
    return cronbach_alpha(valid_codes[scale_items].T, missing="pairwise")


def dimension_scores(valid_codes: np.ndarray, composite: CompositeIndex) -> np.ndarray:
    """Each respondent's score of each dimension: the mean of its valid answers.

    Parameters
    ----------
    valid_codes : ndarray, shape (items, respondents)
        Codes 1..5, NaN where not applicable or missing.
    composite : CompositeIndex
        Dimensions and their item rows.

    Returns
    -------
    ndarray, shape (respondents, dimensions)
        NaN for a respondent without a valid answer in the dimension.

    Notes
    -----
    The respondent-level variable the derived importance correlates with the overall item.

    References
    ----------
    GB/T 19038-2009, annex D (importance matrix).

    Examples
    --------
    >>> codes = np.array([[5, 4, np.nan], [3, np.nan, np.nan], [4, 4, 2]])
    >>> dimension_scores(codes, composite_index([0, 0, 0], {"a": [0, 1], "b": [2]})).tolist()
    [[4.0, 4.0], [4.0, 4.0], [nan, 2.0]]
    """
    scores = np.empty((valid_codes.shape[1], len(composite.dimensions)))
    for k, d in enumerate(composite.dimensions):
        if len(d.items) == 1:  # the mean of one valid answer is that answer
            scores[:, k] = valid_codes[d.items[0]]
            continue
        block = valid_codes[list(d.items)]
        answered = (~np.isnan(block)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[:, k] = np.where(answered > 0,
                                    np.nansum(block, axis=0) / np.maximum(answered, 1), np.nan)
    return scores


def _driver_analysis(valid_codes: np.ndarray, composite: CompositeIndex, overall_item: int,
                    crosshair: str) -> tuple[DerivedImportance, ImportancePerformance]:
    """Derived importance of the dimensions for the overall item, and the IPA quadrants."""
    importance = derived_importance(dimension_scores(valid_codes, composite),
                                    valid_codes[overall_item])
    ipa = importance_performance_quadrants(
        importance.coefficients, [d.index for d in composite.dimensions],
        [d.name for d in composite.dimensions], crosshair=crosshair, importance_midpoint=0.5,
        performance_midpoint=50.0)
    return importance, ipa


def _dimension_statistics(composite: CompositeIndex, items: Sequence[ItemStatistics],
                          table: ResponseTable,
                          linearised_ses: bool = True) -> tuple[DimensionStatistics, ...]:
    """Each dimension's index (from the composite) and rate (equal-weight mean of its item
    rates), with their linearised SEs (a one-item dimension: its item's; NaN without
    ``linearised_ses``)."""
    ses = (dimension_standard_errors(table, composite) if linearised_ses
           else [(float("nan"), float("nan"))] * len(composite.dimensions))
    out = []
    for d, (index_se, rate_se) in zip(composite.dimensions, ses, strict=True):
        if len(d.items) == 1:
            index_se, rate_se = items[d.items[0]].index.se, items[d.items[0]].rate.se
        out.append(DimensionStatistics(
            d.name, d.index, dimension_rate([items[i].rate.estimate for i in d.items]),
            d.items, DIMENSION_CONVENTION, index_se, rate_se))
    return tuple(out)
