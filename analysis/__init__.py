"""Pure statistics for resident-satisfaction surveys (保障性安居工程居民满意度调查).

Imports only the standard library, numpy, scipy and jieba; never the web app.

Importing the package imports none of its modules: each name below is imported from its
module on first use (``analysis.campaign_statistics``, ``from analysis import
word_tokens``), so a process that plans a sample or segments a comment does not pay for
scipy.stats and the rest (start-up time and worker memory). jieba is imported when
comments are first segmented.

Conventions (METHODS.md): 5-point codes 5 非常满意 … 1 非常不满意; the not-applicable code
(default 9) and missing answers (NaN/None) are excluded from every denominator and reported
as their own share; 一般 (3) counts as not satisfied. Every result is a frozen dataclass that
states its convention.

Modules
-------
measures      satisfaction rate (top-2 box), score (100/80/60/40/20), linear index, counts
estimates     rate (Wilson at Kish's n_eff with FPC), index (normal), score = 20 + 0.8 index
intervals     Wilson, normal and t intervals, FPC
raking        raking (IPF) to roster margins, trimmed; raked means and their linearised SE
raked_campaign  campaign statistics recomputed with raked weights
raked_design    a raked design's variance tables, prepared once per cell
raked_cells     raked rate and index means and their SEs from per-(raking cell, code) sums
raked_sums      a cell's stored aggregates per raking cell; composites' SEs from pair sums
bootstrap     bootstrap intervals (percentile/basic/BCa, stratified, multinomial counts)
stratified    design weights N_h/r_h, pooled estimate, SE with/without FPC, Kish deff
reliability   Cronbach's alpha (raw, standardised), Feldt CI, item-total, alpha-if-deleted
reliability_sums  the same alpha and Feldt CI from pair sums, answered-item counts and
              complete-row sums
validity      one-factor ML loadings, CR and AVE per dimension, overall item's R² (OLS)
validity_sums  the same validity from complete-row sums and valid-answer counts
factor_ml     the one-factor maximum-likelihood fit behind validity's loadings
composite     dimension/overall index; equal, given, importance, entropy and AHP weights
drivers       derived importance (Spearman) and Importance-Performance quadrants
comparisons   Mann-Whitney U + rank-biserial (also from category counts), chi-square
              (small counts), Kruskal-Wallis + ε²
survey_modes  web vs paper mode effects per item and stratum
planning      Cochran sample size with FPC, contacts, margin of error, AAPOR rates
backchecks    seeded back-check draw per worker, answer comparison, discrepancy rates
indicator     indicator score (proportional, stepwise, bands), P(true ≥ target), measure switch
comments      themes of Chinese comments with jieba
response_table  a response matrix validated and counted per item, stratum and category
campaign      campaign_statistics: everything above from one response matrix
cell_sums     the same without reliability, intervals, drivers: from counts and pair sums
rollup        city/province roll-up over county x group strata (never a mean of county rates)
league        league table of counties with rank intervals (seeded parametric bootstrap)
funnel        funnel plot limits (95 % and 99.8 %) around the region's rate
linearisation  SE of a linear combination of stratified item means (composite, dimensions)
year_over_year  change from the previous campaign: interval, P(true change >= 0)
conventions   the scores document's conventions, from the results' own texts
fabrication   per-worker fabrication indicators (identical patterns, spread, permutation
              test of the answer distribution, Holm) and keying pace of paper entry
"""

from __future__ import annotations

import importlib

#: Module (under analysis/) -> the names the package exports from it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "backchecks": (
        "BackcheckSummary", "WorkerBackcheck", "backcheck_draw", "backcheck_sample_size",
        "backcheck_summary", "backcheck_topup", "item_discrepant",
    ),
    "bootstrap": (
        "bootstrap_counts_interval", "bootstrap_interval", "stratified_bootstrap_interval",
    ),
    "campaign": (
        "CampaignStatistics", "DimensionStatistics", "ItemStatistics", "campaign_statistics",
    ),
    "cell_sums": ("StratumPairSums", "campaign_statistics_from_sums"),
    "comments": (
        "CommentThemes", "Theme", "comment_themes", "is_praise", "load_segmenter", "word_tokens",
    ),
    "comparisons": (
        "chi_square_independence", "kruskal_wallis", "mann_whitney", "mann_whitney_counts",
    ),
    "composite": (
        "ahp_weights", "composite_index", "entropy_weights", "equal_weights", "importance_weights",
        "normalized_weights",
    ),
    "conventions": ("scores_conventions",),
    "fabrication": (
        "FabricationScreen", "KeyingPace", "WorkerIndicators", "chi_square_worker_vs_rest",
        "fabrication_screen", "holm_adjust", "keying_pace",
    ),
    "drivers": (
        "derived_importance", "derived_importance_from_tables", "importance_performance_quadrants",
    ),
    "factor_ml": ("OneFactorModel", "one_factor_ml"),
    "funnel": ("FunnelPlot", "funnel_curve", "funnel_limits", "funnel_plot"),
    "estimates": (
        "Estimate", "ItemEstimates", "dimension_rate", "fpc_effective_n", "index_estimate",
        "item_estimates",
        "rate_estimate", "score_estimate", "score_from_index",
    ),
    "indicator": (
        "BandRule", "IndicatorScore", "ProportionalRule", "StepwiseRule", "band_rule",
        "indicator_from_estimates", "indicator_score", "probability_meets_target",
    ),
    "intervals": (
        "Interval", "finite_population_correction", "interval_from_se", "t_interval",
        "wilson_interval",
    ),
    "league": ("LeagueTable", "league_table"),
    "measures": (
        "ItemSummary", "Measure", "category_counts", "item_summary", "linear_index",
        "satisfaction_rate", "satisfaction_score", "summary_from_counts",
    ),
    "planning": ("aapor_rates", "cochran_sample_size", "contacts_needed", "margin_of_error"),
    "raked_cells": ("RakedCells", "cell_ratio_means", "combination_variances"),
    "raked_design": ("RakedDesign", "design_variance", "design_variances"),
    "raked_campaign": (
        "RakedHeadline", "raked_campaign_statistics", "raked_cell_headline",
        "raked_cell_statistics", "raked_headline",
    ),
    "raked_sums": ("PairTables", "RakingCellSums", "pair_combination_variances"),
    "raking": (
        "RakedWeights", "calibrated_variance", "rake_weights", "raked_means",
        "raked_point_means", "raked_stratified_mean",
    ),
    "rollup": ("Rollup", "RollupCell", "UnitRollup", "region_rollup", "stratified_rollup"),
    "reliability": (
        "PooledAlpha", "alpha_from_sums", "alpha_with_interval", "corrected_item_totals",
        "cronbach_alpha", "item_total_statistics", "pairwise_sums",
    ),
    "reliability_sums": (
        "CompleteRowSums", "complete_row_sums", "complete_row_sums_from_pairs",
        "listwise_alpha_from_sums", "pairwise_alpha_from_sums", "responses_with_at_least",
    ),
    "stratified": (
        "StratifiedEstimate", "design_weights", "effective_sample_size", "kish_design_effect",
        "stratified_mean",
    ),
    "survey_modes": (
        "item_mode_effects", "item_mode_effects_from_counts", "mode_effect_from_counts",
        "mode_effects",
    ),
    "validity": (
        "average_variance_extracted", "composite_reliability", "dimension_validity",
        "overall_r_squared", "construct_validity",
    ),
    "validity_sums": ("construct_validity_from_sums", "validity_row_sets"),
    "year_over_year": ("YearOverYearChange", "year_over_year_change"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF, key=lambda name: (not name[0].isupper(), name))


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"analysis.{module}"), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
