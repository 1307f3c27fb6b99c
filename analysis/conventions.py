"""The conventions of a scores document: one text per statistic, defined once.

The results carry these same strings: an :class:`analysis.estimates.Estimate` has its
measure's definition as ``convention`` and its interval's as ``interval.method``, a
:class:`analysis.campaign.DimensionStatistics` has :data:`DIMENSION_CONVENTION`, and
:class:`analysis.campaign.CampaignStatistics` has :data:`COMPOSITE_CONVENTION` as
``composite_convention``.
:func:`scores_conventions` assembles the document's ``conventions`` mapping from them, so
the document cannot describe a statistic other than the one computed. The other texts
describe how a scores document applies the building blocks (strata, reliability policies,
drivers, mode effects, comment themes, indicator).

This module imports nothing (no numpy, no scipy): a web process can describe the document
(its API schema) without loading the statistics.
"""

from __future__ import annotations

__all__ = [
    "COMPOSITE_CONVENTION",
    "DIMENSION_CONVENTION",
    "INDEX_DEFINITION",
    "INDICATOR_MEASURE_CONVENTION",
    "RAKING_CONVENTION",
    "RATE_DEFINITION",
    "SCORE_DEFINITION",
    "WEIGHTING_CONVENTION",
    "YEAR_OVER_YEAR_CONVENTION",
    "index_interval_convention",
    "rate_interval_convention",
    "scores_conventions",
    "validity_convention",
]

RATE_DEFINITION = "satisfaction rate 满意率 = (n5+n4)/N_valid (一般 counts as not satisfied)"
SCORE_DEFINITION = ("satisfaction score 满意度得分 = (100n5+80n4+60n3+40n2+20n1)/N_valid "
                    "= 20 + 0.8 x index")
INDEX_DEFINITION = "linear index = (mean-1)/(5-1) x 100"
DIMENSION_CONVENTION = ("dimension index = equal-weight mean of its item indices; dimension "
                        "rate = equal-weight mean of its item rates (analysis.composite_index)")
COMPOSITE_CONVENTION = (
    "overall index = equal-weight mean of dimension indices (overall item excluded), normal "
    "interval from the Taylor-linearised stratified SE with FPC f_h = r_h/N_h over "
    "respondents; each item enters with its own group weights (the groups in its "
    "weight_groups), as in its pooled estimate (analysis.campaign_statistics)")
YEAR_OVER_YEAR_CONVENTION = (
    "change = this year's estimate - the previous campaign's (its predecessor), both under "
    "the same filters and weighting; independent samples: Var(change) = SE_now^2 + "
    "SE_prev^2 (each year's reported SE, with its FPC), 95% normal interval; target "
    "'not lower than last year' (不低于上年) met when the change >= 0, P(true change >= 0) = "
    "Phi(change/SE) (normal approximation); an item is compared only when its question "
    "wording (text in every language) and answer scale are the same in both years in every "
    "household group's questionnaire that asks it, else marked 口径变化 (wording changed) "
    "and no change computed; a dimension or the composite index only when all its items "
    "are compared")
INDICATOR_MEASURE_CONVENTION = (
    "campaign indicator settings applied to the overall item's stratified measure; "
    "P(true >= target) = Phi((actual - target)/SE), SE with FPC")


def rate_interval_convention(confidence: float = 0.95) -> str:
    """How :func:`analysis.estimates.rate_estimate` computes its interval (the ``rate_ci``
    convention)."""
    return (f"{confidence:.0%} Wilson score interval at Kish's effective sample size with "
            "the FPC, n* = 1/sum_h W_h^2 (1-f_h)/r_h, W_h = N_h/N, f_h = r_h/N_h (within one "
            "household group the Wilson interval with the without-replacement variance, "
            "n* = rN/(N-r)); the FPC is applied alike to the interval, the SE and "
            "P(true >= target)")


def index_interval_convention(confidence: float = 0.95) -> str:
    """How :func:`analysis.estimates.index_estimate` and ``score_estimate`` compute their
    intervals (the ``index_ci`` convention)."""
    return (f"{confidence:.0%} normal interval, stratified SE with finite-population "
            "correction sqrt(sum_h (N_h/N)^2 (1-f_h) s_h^2/r_h); for one item r_h and f_h "
            "count its valid answers (the item's sample: METHODS section 4 with NA answers "
            "excluded from every denominator, section 1), the composite's f_h its "
            "respondents (a domain estimate); both agree for an item without NA answers; "
            "score interval = 20 + 0.8 x index interval")


WEIGHTING_CONVENTION = (
    "strata = household groups; pooled = sum_h (N_h/N) ybar_h with N_h the roster households "
    "of group h in the cell (project/community) and ybar_h over the valid answers; a group "
    "without valid answers to an item drops out of that item's weights (each item cell "
    "lists the groups that entered them as weight_groups), in the item's estimates and in "
    "the composite index's SE alike; N_h is raised to r_h if open-link respondents "
    "outnumber the roster")
RAKING_CONVENTION = (
    "raked: each household group's respondents raked (iterative proportional fitting) to the "
    "roster's households by community and by project within the group, from the design "
    "weight N_h/r_h; weights trimmed to [{low}, {high}] x the design weight (trimming inside "
    "the iterations); margin categories without respondents merged into the rest of the "
    "margin; variances: Taylor linearisation of the ratio means as R survey does for rake() "
    "(influence values swept by the margins, 10 sweeps, stratified by group with FPC "
    "f_h = r_h/N_h); breakdown cells: the same restricted to the cell's respondents")
DRIVERS_CONVENTION = ("Spearman correlation of each dimension score with the overall item "
                      "(pairwise deletion); IPA crosshair at the means")
MODE_EFFECTS_CONVENTION = (
    "web (token + open link) vs paper within each household group: Mann-Whitney U with "
    "rank-biserial r, chi-square of mode x category (sparse categories merged)")
COMMENTS_CONVENTION = ("jieba tokens (>= 2 characters, stop words removed), ranked by "
                       "comments containing the term; comments that only praise or thank "
                       "(analysis.comments.is_praise) give no theme")


def scale_convention(na_code: int = 9) -> str:
    """Codes of the 5-point scale and what happens to not-applicable and missing answers."""
    return (f"codes 5 非常满意 .. 1 非常不满意; {na_code} 不清楚 and missing answers excluded "
            "from every denominator and reported as their own share")


def reliability_convention(na_code: int = 9) -> str:
    """Cronbach's alpha as a scores document computes it (two missing-data policies)."""
    return (f"Cronbach alpha over all rating items except the overall item, {na_code} as "
            "missing; pairwise (all rows with >= 2 answers) and listwise (complete rows); "
            "Feldt CI")


def validity_convention(na_code: float | None = 9, min_answered_share: float = 0.5) -> str:
    """How :func:`analysis.validity.construct_validity` computes CR, AVE, item-total and R²."""
    na = "missing answers" if na_code is None else f"{na_code:g} and missing answers"
    share = f"{min_answered_share:.0%}"
    return ("per dimension a one-factor model fitted by maximum likelihood to the items' "
            "correlation matrix (= lavaan cfa std.lv std.all loadings); "
            "CR = (Σλ)²/((Σλ)² + Σ(1 − λ²)), AVE = Σλ²/k; corrected item-total correlation = "
            f"item vs the sum of the dimension's other items; {na} dropped listwise within "
            "the dimension; CR and AVE need >= 3 items (1 item: undefined; 2 items: a "
            "one-factor model is not identified); 'all items' is the same model over every "
            f"rating item but the overall item that at least {share} of respondents answered; "
            "R² of OLS of the overall item on the dimension scores (mean of the dimension's "
            f"items), listwise, leaving out dimensions scored for fewer than {share} of "
            "respondents")


def scores_conventions(
    *,
    counted_responses: str,
    snapshot: str,
    min_cell: int = 5,
    rate_decimals: int = 4,
    score_decimals: int = 2,
    na_code: int = 9,
    confidence: float = 0.95,
) -> dict[str, str]:
    """The ``conventions`` mapping of a scores document.

    Parameters
    ----------
    counted_responses : str
        Which responses the caller counts (its data selection, not a statistic).
    snapshot : str
        How the caller names the exact data used.
    min_cell : int, default 5
        Cells with fewer respondents show counts only.
    rate_decimals, score_decimals : int, default 4, 2
        Decimals the document rounds rates, and scores and indices, to.
    na_code : int, default 9
        Not-applicable code.
    confidence : float, default 0.95
        Level of the item intervals (as passed to :func:`analysis.item_estimates`).

    Returns
    -------
    dict of str to str
        Keys counted_responses, scale, rate, score, index, weighting, rate_ci, index_ci,
        dimension, composite, reliability, validity, drivers, mode_effects, comments, suppression,
        indicator, snapshot, rounding.

    Notes
    -----
    rate, score, index, rate_ci, index_ci and dimension are the ``convention`` and
    ``interval.method`` strings of :class:`analysis.estimates.Estimate` and
    :class:`analysis.campaign.DimensionStatistics`; composite is
    :data:`analysis.campaign.COMPOSITE_CONVENTION`.

    References
    ----------
    METHODS.md.

    Examples
    --------
    >>> c = scores_conventions(counted_responses="all", snapshot="none")
    >>> c["suppression"]
    'cells with fewer than 5 respondents show counts only'
    >>> c["rate_ci"][:35]
    "95% Wilson score interval at Kish's"
    """
    return {
        "counted_responses": counted_responses,
        "scale": scale_convention(na_code),
        "rate": RATE_DEFINITION,
        "score": SCORE_DEFINITION,
        "index": INDEX_DEFINITION,
        "weighting": WEIGHTING_CONVENTION,
        "rate_ci": rate_interval_convention(confidence),
        "index_ci": index_interval_convention(confidence),
        "dimension": DIMENSION_CONVENTION,
        "composite": COMPOSITE_CONVENTION,
        "reliability": reliability_convention(na_code),
        "validity": validity_convention(na_code),
        "drivers": DRIVERS_CONVENTION,
        "mode_effects": MODE_EFFECTS_CONVENTION,
        "comments": COMMENTS_CONVENTION,
        "suppression": f"cells with fewer than {min_cell} respondents show counts only",
        "indicator": INDICATOR_MEASURE_CONVENTION,
        "snapshot": snapshot,
        "rounding": f"rates {rate_decimals} decimals, scores and indices {score_decimals} "
                    "decimals",
    }
