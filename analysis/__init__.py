"""Pure statistics for resident-satisfaction surveys (保障性安居工程居民满意度调查).

Imports only the standard library, numpy, scipy and jieba; never the web app. jieba is
imported when comments are first segmented, not with this package.

Conventions (METHODS.md): 5-point codes 5 非常满意 … 1 非常不满意; the not-applicable code
(default 9) and missing answers (NaN/None) are excluded from every denominator and reported
as their own share; 一般 (3) counts as not satisfied. Every result is a frozen dataclass that
states its convention.

Modules
-------
measures      satisfaction rate (top-2 box), score (100/80/60/40/20), linear index, counts
estimates     reported rate (Wilson at Kish's n_eff), index (normal), score = 20 + 0.8 index
intervals     Wilson, normal and t intervals, FPC
bootstrap     bootstrap intervals (percentile/basic/BCa, stratified, multinomial counts)
stratified    design weights N_h/r_h, pooled estimate, SE with/without FPC, Kish deff
reliability   Cronbach's alpha (raw, standardised), Feldt CI, item-total, alpha-if-deleted
composite     dimension/overall index; equal, given, importance, entropy and AHP weights
drivers       derived importance (Spearman) and Importance-Performance quadrants
comparisons   Mann-Whitney U + rank-biserial (also from category counts), chi-square
              (small counts), Kruskal-Wallis + ε²
mode_effects  web vs paper mode effects per item and stratum
planning      Cochran sample size with FPC, contacts, margin of error, AAPOR rates
indicator     indicator score (proportional, stepwise, bands), P(true ≥ target), measure switch
comments      themes of Chinese comments with jieba
response_table  a response matrix validated and counted per item, stratum and category
campaign      campaign_statistics: everything above from one response matrix
conventions   the scores document's conventions, from the results' own texts
"""

from analysis.bootstrap import (
    bootstrap_counts_interval,
    bootstrap_interval,
    stratified_bootstrap_interval,
)
from analysis.campaign import (
    CampaignStatistics,
    DimensionStatistics,
    ItemStatistics,
    campaign_statistics,
)
from analysis.comments import (
    CommentThemes,
    Theme,
    comment_themes,
    load_segmenter,
    word_tokens,
)
from analysis.comparisons import (
    chi_square_independence,
    kruskal_wallis,
    mann_whitney,
    mann_whitney_counts,
)
from analysis.composite import (
    ahp_weights,
    composite_index,
    entropy_weights,
    equal_weights,
    importance_weights,
    normalized_weights,
)
from analysis.conventions import scores_conventions
from analysis.drivers import derived_importance, importance_performance_quadrants
from analysis.estimates import (
    Estimate,
    ItemEstimates,
    dimension_rate,
    index_estimate,
    item_estimates,
    rate_estimate,
    score_estimate,
    score_from_index,
)
from analysis.indicator import (
    BandRule,
    IndicatorScore,
    ProportionalRule,
    StepwiseRule,
    band_rule,
    indicator_from_estimates,
    indicator_score,
    probability_meets_target,
)
from analysis.intervals import (
    Interval,
    finite_population_correction,
    interval_from_se,
    t_interval,
    wilson_interval,
)
from analysis.measures import (
    ItemSummary,
    Measure,
    category_counts,
    item_summary,
    linear_index,
    satisfaction_rate,
    satisfaction_score,
    summary_from_counts,
)
from analysis.mode_effects import item_mode_effects, mode_effect_from_counts, mode_effects
from analysis.planning import aapor_rates, cochran_sample_size, contacts_needed, margin_of_error
from analysis.reliability import cronbach_alpha, item_total_statistics
from analysis.stratified import (
    StratifiedEstimate,
    design_weights,
    effective_sample_size,
    kish_design_effect,
    stratified_mean,
)

__all__ = [
    "BandRule",
    "CampaignStatistics",
    "CommentThemes",
    "DimensionStatistics",
    "Estimate",
    "IndicatorScore",
    "Interval",
    "ItemEstimates",
    "ItemStatistics",
    "ItemSummary",
    "Measure",
    "ProportionalRule",
    "StepwiseRule",
    "StratifiedEstimate",
    "Theme",
    "aapor_rates",
    "ahp_weights",
    "band_rule",
    "bootstrap_counts_interval",
    "bootstrap_interval",
    "campaign_statistics",
    "category_counts",
    "chi_square_independence",
    "cochran_sample_size",
    "comment_themes",
    "composite_index",
    "contacts_needed",
    "cronbach_alpha",
    "derived_importance",
    "design_weights",
    "dimension_rate",
    "effective_sample_size",
    "entropy_weights",
    "equal_weights",
    "finite_population_correction",
    "importance_performance_quadrants",
    "importance_weights",
    "index_estimate",
    "indicator_from_estimates",
    "indicator_score",
    "interval_from_se",
    "item_estimates",
    "item_mode_effects",
    "item_summary",
    "item_total_statistics",
    "kish_design_effect",
    "kruskal_wallis",
    "linear_index",
    "load_segmenter",
    "mann_whitney",
    "mann_whitney_counts",
    "margin_of_error",
    "mode_effect_from_counts",
    "mode_effects",
    "normalized_weights",
    "probability_meets_target",
    "rate_estimate",
    "satisfaction_rate",
    "satisfaction_score",
    "score_estimate",
    "score_from_index",
    "scores_conventions",
    "stratified_bootstrap_interval",
    "stratified_mean",
    "summary_from_counts",
    "t_interval",
    "wilson_interval",
    "word_tokens",
]
