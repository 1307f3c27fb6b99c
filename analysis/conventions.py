"""The conventions of a scores document, assembled from the texts the results carry.

Each statistic's text is defined once, next to the code that computes it, and is the
``convention`` (or interval ``method``) of its result: :mod:`analysis.estimates` for the
measures and their intervals, :data:`analysis.campaign.COMPOSITE_CONVENTION` for the
composite index. :func:`scores_conventions` puts those same strings into the document's
``conventions`` mapping, so the document cannot describe a statistic other than the one
computed. The texts below describe how a scores document applies the building blocks
(strata, reliability policies, drivers, mode effects, comment themes, indicator).
"""

from __future__ import annotations

from analysis.campaign import COMPOSITE_CONVENTION
from analysis.estimates import (
    DIMENSION_CONVENTION,
    INDEX_DEFINITION,
    RATE_DEFINITION,
    SCORE_DEFINITION,
    index_interval_convention,
    rate_interval_convention,
)
from analysis.indicator import INDICATOR_MEASURE_CONVENTION

__all__ = ["WEIGHTING_CONVENTION", "scores_conventions"]

WEIGHTING_CONVENTION = (
    "strata = household groups; pooled = sum_h (N_h/N) ybar_h with N_h the roster households "
    "of group h in the cell (project/community) and ybar_h over the valid answers; a group "
    "without valid answers to an item drops out of that item's weights; N_h is raised to r_h "
    "if open-link respondents outnumber the roster")
DRIVERS_CONVENTION = ("Spearman correlation of each dimension score with the overall item "
                      "(pairwise deletion); IPA crosshair at the means")
MODE_EFFECTS_CONVENTION = (
    "web (token + open link) vs paper within each household group: Mann-Whitney U with "
    "rank-biserial r, chi-square of mode x category (sparse categories merged)")
COMMENTS_CONVENTION = ("jieba tokens (>= 2 characters, stop words removed), ranked by "
                       "comments containing the term")


def scale_convention(na_code: int = 9) -> str:
    """Codes of the 5-point scale and what happens to not-applicable and missing answers."""
    return (f"codes 5 非常满意 .. 1 非常不满意; {na_code} 不清楚 and missing answers excluded "
            "from every denominator and reported as their own share")


def reliability_convention(na_code: int = 9) -> str:
    """Cronbach's alpha as a scores document computes it (two missing-data policies)."""
    return (f"Cronbach alpha over all rating items except the overall item, {na_code} as "
            "missing; pairwise (all rows with >= 2 answers) and listwise (complete rows); "
            "Feldt CI")


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
        dimension, composite, reliability, drivers, mode_effects, comments, suppression,
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
        "drivers": DRIVERS_CONVENTION,
        "mode_effects": MODE_EFFECTS_CONVENTION,
        "comments": COMMENTS_CONVENTION,
        "suppression": f"cells with fewer than {min_cell} respondents show counts only",
        "indicator": INDICATOR_MEASURE_CONVENTION,
        "snapshot": snapshot,
        "rounding": f"rates {rate_decimals} decimals, scores and indices {score_decimals} "
                    "decimals",
    }
