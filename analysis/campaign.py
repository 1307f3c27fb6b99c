"""One call for the full set of campaign statistics from a response matrix.

Design choices (all stated in the result's ``convention``):

* item measures are stratified (N_h/N population shares) with SE with and without FPC;
* item intervals are bootstrap intervals drawn as multinomial category counts per stratum
  (exactly the stratified row bootstrap, at O(resamples × strata × categories) per item);
* the composite (overall) index is a linear function of the stratified item means, so its
  SE is the Taylor-linearised stratified SE (with FPC) and its interval a normal interval —
  a row bootstrap of the composite would cost O(resamples × respondents);
* reliability uses pairwise deletion over all items except the overall item;
* drivers: Spearman correlation of each dimension score (respondent mean of the dimension's
  valid answers) with the overall item; IPA from those and the dimension indices;
* the indicator uses the stratified satisfaction rate of the overall item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.bootstrap import bootstrap_counts_bounds
from analysis.composite import CompositeIndex, composite_index
from analysis.drivers import (
    DerivedImportance,
    ImportancePerformance,
    derived_importance,
    importance_performance_quadrants,
)
from analysis.indicator import (
    BandRule,
    IndicatorScore,
    ProportionalRule,
    StepwiseRule,
    indicator_score,
)
from analysis.intervals import Interval, interval_from_se
from analysis.measures import ItemSummary, summary_from_counts
from analysis.reliability import CronbachAlpha, cronbach_alpha
from analysis.stratified import StratifiedEstimate, stratified_mean_from_moments

__all__ = ["ItemStatistics", "CampaignStatistics", "campaign_statistics"]


@dataclass(frozen=True, slots=True)
class ItemStatistics:
    """One item: unweighted summary, per-stratum summaries, stratified rate and index."""

    name: str
    summary: ItemSummary
    by_stratum: tuple[ItemSummary, ...]
    rate: StratifiedEstimate
    rate_interval: Interval | None  # None when computed with item_intervals=False
    index: StratifiedEstimate
    index_interval: Interval | None


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


_INDEX_VALUES = np.array([0.0, 25.0, 50.0, 75.0, 100.0])
_RATE_VALUES = np.array([0.0, 0.0, 0.0, 1.0, 1.0])


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
    crosshair: Literal["mean", "median", "midpoint"] = "mean",
    reliability: bool = True,
    item_intervals: bool = True,
    drivers: bool = True,
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
    crosshair : {"mean", "median", "midpoint"}, default "mean"
        IPA crosshair rule (for "midpoint" see Notes).
    reliability : bool, default True
        Compute Cronbach's alpha.
    item_intervals : bool, default True
        Compute the bootstrap intervals of the item rates and indices (``None`` if False).
    drivers : bool, default True
        Compute the derived importance and the IPA quadrants (``None`` if False).

    Returns
    -------
    CampaignStatistics

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
    y = np.asarray(responses, dtype=float)
    if y.ndim != 2:
        raise ValueError("responses must be items x respondents")
    n_items, n = y.shape
    labels_arr = np.asarray(strata)
    if labels_arr.shape != (n,):
        raise ValueError("one stratum label per respondent is required")
    labels, h_idx = np.unique(labels_arr, return_inverse=True)
    n_strata = labels.size
    missing_labels = [lab for lab in labels.tolist() if lab not in population_by_stratum]
    if missing_labels:
        raise ValueError(f"no population size for strata {missing_labels}")
    pop = np.array([float(population_by_stratum[lab]) for lab in labels.tolist()])
    names = [f"Q{j + 1}" for j in range(n_items)] if item_names is None else list(item_names)

    # --- category counts per item x stratum: slots 0..4 codes, 5 NA, 6 missing, 7 invalid
    # Slots through a lookup table over the integer codes lo..hi (its two ends, below and
    # above every valid code, are invalid): fewer passes over the matrix than comparing it
    # with each rule, which mattered at 100,000 respondents x 11 cells.
    nan = np.isnan(y)
    lo, hi = min(1, na_code) - 1, max(5, na_code) + 1
    clipped = np.clip(np.where(nan, lo, y), lo, hi)
    code = clipped.astype(np.int64)
    lookup = np.full(hi - lo + 1, 7, dtype=np.int64)
    lookup[1 - lo:6 - lo] = np.arange(5)
    lookup[na_code - lo] = 5
    slot = lookup[code - lo if lo else code]
    slot[nan] = 6
    if np.any((slot == 7) | (code != clipped)):  # not 1..5 nor the NA code, or not whole
        raise ValueError("responses contain codes outside 1..5 that are not the NA code")
    row_base = np.arange(n_items)[:, None] * n_strata
    key = (row_base if n_strata == 1 else row_base + h_idx[None, :]) * 7 + slot
    table = np.bincount(key.ravel(), minlength=n_items * n_strata * 7).reshape(
        n_items, n_strata, 7)
    counts = table[..., :5]
    valid_counts = counts.sum(axis=-1)  # (items, H)
    empty = [names[j] for j in np.flatnonzero(valid_counts.sum(axis=1) == 0)]
    if empty:
        raise ValueError(f"items without any valid answer: {empty}")
    r_h = np.bincount(h_idx, minlength=n_strata)
    w_pop = pop / pop.sum()

    # --- bootstrap intervals for every item (rate and index) from multinomial counts
    boot = {}
    method_text = "not computed"
    if item_intervals:
        rng = np.random.default_rng(seed)
        weights = np.broadcast_to(w_pop, (n_items, n_strata))
        for name_, vals in (("rate", _RATE_VALUES), ("index", _INDEX_VALUES)):
            boot[name_] = bootstrap_counts_bounds(
                counts, vals, weights, rng=rng, method=bootstrap_method,
                n_resamples=n_resamples, confidence=confidence)
        method_text = (f"bootstrap {bootstrap_method} ({n_resamples} resamples, seed {seed}, "
                       "stratified multinomial on category counts)")

    values = np.arange(1, 6, dtype=float)
    items = []
    stratum_means = np.full((n_items, n_strata), np.nan)
    for j in range(n_items):
        total = table[j].sum(axis=0)
        summary = summary_from_counts(total[:5], n_na=int(total[5]), n_missing=int(total[6]))
        by_stratum = tuple(
            summary_from_counts(table[j, h, :5], n_na=int(table[j, h, 5]),
                                n_missing=int(table[j, h, 6]))
            for h in range(n_strata)
        )
        ok = valid_counts[j] > 0
        r = valid_counts[j][ok]
        c = counts[j][ok]
        rate_h = c[:, 3:].sum(axis=1) / r
        mean_h = c @ values / r
        stratum_means[j, ok] = mean_h
        var_rate = np.where(r > 1, rate_h * (1 - rate_h) * r / np.maximum(r - 1, 1), 0.0)
        ex2 = c @ values**2 / r
        var_mean = np.where(r > 1, (ex2 - mean_h**2) * r / np.maximum(r - 1, 1), 0.0)
        lab_ok = labels[ok].tolist()
        rate_est = stratified_mean_from_moments(lab_ok, r, rate_h, var_rate, pop[ok],
                                                measure="satisfaction rate")
        index_est = stratified_mean_from_moments(lab_ok, r, (mean_h - 1) * 25,
                                                 var_mean * 625, pop[ok], measure="index")
        items.append(ItemStatistics(
            name=names[j],
            summary=summary,
            by_stratum=by_stratum,
            rate=rate_est,
            rate_interval=Interval(rate_est.estimate, float(boot["rate"][0][j]),
                                   float(boot["rate"][1][j]), confidence, method_text)
            if boot else None,
            index=index_est,
            index_interval=Interval(index_est.estimate, float(boot["index"][0][j]),
                                    float(boot["index"][1][j]), confidence, method_text)
            if boot else None,
        ))

    # --- composite index with a linearised stratified SE
    item_index = np.array([it.index.estimate for it in items])
    comp = composite_index(item_index, dimensions, dimension_weights=dimension_weights,
                           weights_method=weights_method)
    coef = np.zeros(n_items)
    for d in comp.dimensions:
        wd = d.weight / sum(e.weight for e in comp.dimensions if not np.isnan(e.index))
        for item, u in zip(d.items, d.item_weights, strict=True):
            coef[item] += 25.0 * wd * u
    valid = slot < 5
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(valid_counts > 0, r_h[None, :] / np.maximum(valid_counts, 1), 0.0)
    contributing = np.flatnonzero(coef)
    z = np.zeros(n)
    for j in contributing:
        means_j, scale_j = np.nan_to_num(stratum_means[j]), scale[j]
        if n_strata == 1:  # one stratum (a household-group cell): scalars, no gathers
            means_j, scale_j = means_j[0], scale_j[0]
        else:
            means_j, scale_j = means_j[h_idx], scale_j[h_idx]
        dev = np.where(valid[j], y[j] - means_j, 0.0)
        z += coef[j] * dev * scale_j
    s1 = np.bincount(h_idx, weights=z, minlength=n_strata)
    s2 = np.bincount(h_idx, weights=z * z, minlength=n_strata)
    var_h = np.where(r_h > 1, (s2 - s1**2 / np.maximum(r_h, 1)) / np.maximum(r_h - 1, 1), 0.0)
    comp_var = float(np.sum(w_pop**2 * (1 - r_h / pop) * var_h / np.maximum(r_h, 1)))
    comp_se = comp_var**0.5
    comp_ci = interval_from_se(comp.overall, comp_se, confidence)
    comp_ci = Interval(comp_ci.estimate, comp_ci.low, comp_ci.high, confidence,
                       "normal interval, Taylor-linearised stratified SE with FPC")

    # --- reliability over all items except the overall item
    codes_valid = np.where(valid, y, np.nan) if (reliability or drivers) else None
    rel = None
    scale_items = [j for j in range(n_items) if j != overall_item]
    if reliability and len(scale_items) >= 2:
        rel = cronbach_alpha(codes_valid[scale_items].T, missing="pairwise")

    # --- drivers: dimension scores vs the overall item
    importance = ipa = None
    if drivers:
        dim_names = [d.name for d in comp.dimensions]
        dim_scores = np.empty((n, len(dim_names)))
        for k, d in enumerate(comp.dimensions):
            if len(d.items) == 1:  # the mean of one valid answer is that answer
                dim_scores[:, k] = codes_valid[d.items[0]]
                continue
            block = codes_valid[list(d.items)]
            cnt = (~np.isnan(block)).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                dim_scores[:, k] = np.where(cnt > 0,
                                            np.nansum(block, axis=0) / np.maximum(cnt, 1),
                                            np.nan)
        importance = derived_importance(dim_scores, codes_valid[overall_item])
        ipa = importance_performance_quadrants(
            importance.coefficients, [d.index for d in comp.dimensions], dim_names,
            crosshair=crosshair, importance_midpoint=0.5, performance_midpoint=50.0)

    overall_rate = items[overall_item].rate
    indicator = indicator_score(overall_rate.estimate, target, points, rule,
                                measure="rate", se=overall_rate.se)
    return CampaignStatistics(
        strata=tuple(labels.tolist()),
        items=tuple(items),
        composite=comp,
        composite_se=comp_se,
        composite_interval=comp_ci,
        reliability=rel,
        drivers=importance,
        ipa=ipa,
        indicator=indicator,
        n_respondents=n,
        convention="stratified by population share N_h/N with FPC; item intervals "
        f"{method_text}; composite SE Taylor-linearised; NA code {na_code} and missing "
        "excluded from every denominator; indicator from the overall item's rate",
    )
