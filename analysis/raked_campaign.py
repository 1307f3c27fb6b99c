"""Campaign statistics under raked (non-response) weights.

:func:`raked_campaign_statistics` takes the design-weighted
:class:`~analysis.campaign.CampaignStatistics` of a cell and replaces what the weights
change: each item's rate and index (raked ratio means, :func:`analysis.raking.raked_means`,
summed per raking cell by :mod:`analysis.raked_cells`)
with their reported estimates, the dimension indices and rates, the composite index with
its linearised SE, and the indicator. Unweighted counts, reliability and drivers stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analysis.campaign import CampaignStatistics, DimensionStatistics
from analysis.composite import composite_index
from analysis.conventions import DIMENSION_CONVENTION
from analysis.estimates import MeasureName, dimension_rate, item_estimates, score_from_index
from analysis.indicator import indicator_from_estimates
from analysis.intervals import Interval, interval_from_se
from analysis.raked_cells import (
    RakedCells,
    cell_point_means,
    cell_ratio_means,
    combination_variances,
)
from analysis.raked_sums import RakingCellSums, pair_combination_variances
from analysis.raking import raked_point_means
from analysis.response_table import stratum_codes

__all__ = [
    "RakedHeadline",
    "raked_campaign_statistics",
    "raked_cell_headline",
    "raked_cell_statistics",
    "raked_headline",
]


def raked_campaign_statistics(
    stats: CampaignStatistics, responses, strata, population_by_stratum, weights,
    margins: Sequence[Sequence[int]] = (), *, overall_item: int, na_code: int = 9,
    confidence: float = 0.95, indicator_measure: MeasureName = "rate", target: float = 0.90,
    points: float = 10.0, rule=None,
) -> CampaignStatistics:
    """``stats`` recomputed with respondent ``weights`` (raked), SEs under the margins.

    Parameters
    ----------
    stats : CampaignStatistics
        The design-weighted statistics of the same ``responses`` (items, dimensions).
    responses, strata, population_by_stratum
        As passed to :func:`analysis.campaign_statistics`.
    weights : array_like, shape (n_respondents,)
        Raked weights (:func:`analysis.raking.rake_weights`).
    margins : sequence of array_like of int
        The raking margins' categories of these respondents.
    overall_item : int
        Row of the overall item (the indicator's).
    na_code, confidence, indicator_measure, target, points, rule
        As :func:`analysis.campaign_statistics`.

    Returns
    -------
    CampaignStatistics

    Notes
    -----
    Composite C = Σ_d W_d Σ_{j∈d} u_j I_j; its influence values are the same combination of
    the items' index influence values, and its variance
    :func:`analysis.raking.calibrated_variance`.
    Item bootstrap intervals are not computed (None).

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3; Wolter (2007), ch. 6.

    Examples
    --------
    >>> from analysis.campaign import campaign_statistics
    >>> codes = np.array([[5, 4, 3, 4, 5, 2], [4, 4, 5, 3, 5, 1]])
    >>> strata = list("aaabbb")
    >>> s = campaign_statistics(codes, strata, {"a": 30, "b": 60}, {"d": [0]}, 1,
    ...                         item_intervals=False, drivers=False, reliability=False)
    >>> r = raked_campaign_statistics(s, codes, strata, {"a": 30, "b": 60}, [10.0] * 3
    ...                               + [20.0] * 3, overall_item=1)
    >>> round(r.composite.overall, 6) == round(s.composite.overall, 6)
    True
    """
    stratum, population, labels = _strata(strata, population_by_stratum)
    cells = RakedCells.of(responses, weights, stratum, population, margins, na_code=na_code)
    return _raked_statistics(
        stats, cells, labels, lambda tables, coef: combination_variances(cells, tables, coef),
        overall_item=overall_item, confidence=confidence, indicator_measure=indicator_measure,
        target=target, points=points, rule=rule)


def raked_cell_statistics(
    stats: CampaignStatistics, sums: RakingCellSums, population_by_stratum, weights, *,
    overall_item: int, confidence: float = 0.95, indicator_measure: MeasureName = "rate",
    target: float = 0.90, points: float = 10.0, rule=None,
) -> CampaignStatistics:
    """:func:`raked_campaign_statistics` from the cell's aggregates per raking cell.

    Parameters
    ----------
    stats : CampaignStatistics
        The design-weighted statistics of the same respondents.
    sums : RakingCellSums
        Respondents, category counts and pair sums (of every item of a dimension with more
        than one item) per raking cell.
    population_by_stratum : mapping
        N_h per stratum label.
    weights : array_like, shape (G,)
        Each raking cell's raked weight (:func:`analysis.raking.rake_weights` with
        ``respondents``).
    overall_item, confidence, indicator_measure, target, points, rule
        As :func:`raked_campaign_statistics`.

    Returns
    -------
    CampaignStatistics
        Equal to :func:`raked_campaign_statistics` of the respondents (rtol 1e-12).

    Notes
    -----
    The items' estimates from the counts (:meth:`RakedCells.of_counts`), the composite's
    and dimensions' SEs from the pair sums
    (:func:`analysis.raked_sums.pair_combination_variances`).

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3.

    Examples
    --------
    >>> from analysis.campaign import campaign_statistics
    >>> codes = np.array([[5, 4, 3, 4, 5, 2], [4, 4, 5, 3, 5, 1]])
    >>> s = campaign_statistics(codes, list("aaabbb"), {"a": 30, "b": 60}, {"d": [0]}, 1,
    ...                         item_intervals=False, drivers=False, reliability=False)
    >>> from analysis.raked_sums import PairTables
    >>> pairs = PairTables.of_records([0], 2, [0, 1], [0, 0], [0, 0], [3, 3], [12, 11],
    ...                               [12, 11], [50, 45], [2, 2], [2, 2], [2, 2])
    >>> sums = RakingCellSums(("a", "b"), (), np.array([3, 3]),
    ...                       np.array([[[0, 0, 1, 1, 1], [0, 1, 0, 1, 1]],
    ...                                 [[0, 0, 0, 2, 1], [1, 0, 1, 0, 1]]]), pairs)
    >>> r = raked_cell_statistics(s, sums, {"a": 30, "b": 60}, [10.0, 20.0], overall_item=1)
    >>> by_rows = raked_campaign_statistics(s, codes, list("aaabbb"), {"a": 30, "b": 60},
    ...                                     [10.0] * 3 + [20.0] * 3, overall_item=1)
    >>> bool(np.isclose(r.composite_se, by_rows.composite_se, rtol=1e-12))
    True
    """
    cells, labels, pairs = sums.cells(weights, population_by_stratum)
    return _raked_statistics(
        stats, cells, labels,
        lambda tables, coef: pair_combination_variances(cells, tables, coef, pairs),
        overall_item=overall_item, confidence=confidence, indicator_measure=indicator_measure,
        target=target, points=points, rule=rule)


def _raked_statistics(stats: CampaignStatistics, cells: RakedCells, labels, variances_of, *,
                      overall_item: int, confidence: float, indicator_measure: MeasureName,
                      target: float, points: float, rule) -> CampaignStatistics:
    """``stats`` with the raked estimates of ``cells``; ``variances_of(tables, coef)``
    the variances (with FPC first) of the rows' linear combinations ``coef``."""
    n_items = cells.counts.shape[0]
    estimates, tables = cell_ratio_means(
        cells, labels, ["satisfaction rate"] * n_items + ["index"] * n_items)
    items = tuple(
        replace(it, rate=estimates[j], index=estimates[n_items + j], rate_interval=None,
                index_interval=None,
                estimates=item_estimates(estimates[j], estimates[n_items + j], confidence))
        for j, it in enumerate(stats.items))
    old = stats.composite
    composite = composite_index(
        [it.index.estimate for it in items], {d.name: d.items for d in old.dimensions},
        dimension_weights=[d.weight for d in old.dimensions], weights_method=old.weights_method)
    # One pass over the answers for the composite's and the dimensions' variances.
    coef = _combinations(composite, n_items)
    variances = variances_of(tables, coef)[0]
    se = float(np.sqrt(variances[0]))
    normal = interval_from_se(composite.overall, se, confidence)
    return replace(
        stats, items=items, composite=composite, composite_se=se,
        composite_interval=Interval(normal.estimate, normal.low, normal.high, confidence,
                                    "normal interval, linearised SE under the raking margins"),
        indicator=indicator_from_estimates(items[overall_item].estimates, indicator_measure,
                                           target, points, rule),
        dimensions=_raked_dimensions(composite, items, variances[1:]),
        convention=stats.convention + "; raked weights (analysis.raking)")


def _strata(strata, population_by_stratum):
    """Each respondent's stratum 0..H-1, the strata's N_h and their labels."""
    labels_arr, stratum = stratum_codes(strata)
    labels = labels_arr.tolist()
    return (stratum, np.array([float(population_by_stratum[lab]) for lab in labels]),
            labels)


def _combinations(composite, n_items: int) -> np.ndarray:
    """Coefficients on the rows (item rates, then indices) of the composite index, then
    of each dimension's index, then of each dimension's rate."""
    dims = composite.dimensions
    coef = np.zeros((1 + 2 * len(dims), 2 * n_items))
    total = sum(d.weight for d in dims if not np.isnan(d.index))
    for k, d in enumerate(dims):
        for item, share in zip(d.items, d.item_weights, strict=True):
            coef[0, n_items + item] += d.weight / total * share
            coef[1 + k, n_items + item] += share
            coef[1 + len(dims) + k, item] += share
    return coef


def _rate_and_index_values(responses, strata, population_by_stratum, na_code: int):
    """Rows 0/1 satisfied then the index 0..100 of every item (NaN where not valid), each
    respondent's stratum, the strata's N_h and their labels."""
    # The design statistics validated the codes; only the strata and valid answers are
    # needed here (rebuilding the response table cost more than the raked means).
    codes = np.asarray(responses, dtype=float)
    stratum, population, labels = _strata(strata, population_by_stratum)
    codes = np.where((codes >= 1) & (codes <= 5) & (codes != na_code), codes, np.nan)
    n_items = codes.shape[0]
    values = np.empty((2 * n_items, codes.shape[1]))
    np.greater_equal(codes, 4, out=values[:n_items])
    values[:n_items][np.isnan(codes)] = np.nan
    np.multiply(codes - 1, 25, out=values[n_items:])
    return values, stratum, population, labels


@dataclass(frozen=True, slots=True)
class RakedHeadline:
    """Raked point estimates of one cell, without SEs: every item's rate and index, the
    overall item's score, and the composite index."""

    rates: tuple[float, ...]
    indices: tuple[float, ...]
    overall_rate: float
    overall_index: float
    overall_score: float
    composite: float


def raked_headline(stats: CampaignStatistics, responses, strata, population_by_stratum,
                   weights, *, overall_item: int, na_code: int = 9) -> RakedHeadline:
    """The point estimates :func:`raked_campaign_statistics` would give, bit for bit,
    without any variance (for a figure shown beside the other weighting's document).

    Parameters
    ----------
    stats, responses, strata, population_by_stratum, weights, overall_item, na_code
        As :func:`raked_campaign_statistics` (no margins: they only enter the SEs).

    Returns
    -------
    RakedHeadline

    Notes
    -----
    Items: :func:`analysis.raking.raked_point_means` of the same rows as
    :func:`raked_campaign_statistics`; composite: :func:`analysis.composite.composite_index`
    of the raked item indices with ``stats``'s dimensions and weights; score
    = 20 + 0.8 × index.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3.

    Examples
    --------
    >>> from analysis.campaign import campaign_statistics
    >>> codes = np.array([[5, 4, 3, 4, 5, 2], [4, 4, 5, 3, 5, 1]])
    >>> strata = list("aaabbb")
    >>> s = campaign_statistics(codes, strata, {"a": 30, "b": 60}, {"d": [0]}, 1,
    ...                         item_intervals=False, drivers=False, reliability=False)
    >>> w = [10.0] * 3 + [20.0] * 3
    >>> h = raked_headline(s, codes, strata, {"a": 30, "b": 60}, w, overall_item=1)
    >>> r = raked_campaign_statistics(s, codes, strata, {"a": 30, "b": 60}, w, overall_item=1)
    >>> h.composite == r.composite.overall, h.overall_rate == r.items[1].rate.estimate
    (True, True)
    """
    values, stratum, population, _labels = _rate_and_index_values(
        responses, strata, population_by_stratum, na_code)
    return _headline(stats, raked_point_means(values, stratum, weights, population),
                     overall_item)


def raked_cell_headline(stats: CampaignStatistics, sums: RakingCellSums,
                        population_by_stratum, weights, *, overall_item: int) -> RakedHeadline:
    """:func:`raked_headline` from the cell's category counts per raking cell.

    Parameters
    ----------
    stats : CampaignStatistics
        The design-weighted statistics of the same respondents.
    sums : RakingCellSums
        Respondents and category counts per raking cell (margins and pairs not needed).
    population_by_stratum, weights, overall_item
        As :func:`raked_cell_statistics`.

    Returns
    -------
    RakedHeadline
        Equal to :func:`raked_headline` of the respondents (rtol 1e-12) and, bit for bit,
        to the estimates of :func:`raked_cell_statistics`.

    Notes
    -----
    The items' means are :func:`analysis.raked_cells.cell_point_means`.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3.

    Examples
    --------
    >>> from analysis.campaign import campaign_statistics
    >>> codes = np.array([[5, 4, 3, 4, 5, 2], [4, 4, 5, 3, 5, 1]])
    >>> s = campaign_statistics(codes, list("aaabbb"), {"a": 30, "b": 60}, {"d": [0]}, 1,
    ...                         item_intervals=False, drivers=False, reliability=False)
    >>> sums = RakingCellSums(("a", "b"), (), np.array([3, 3]),
    ...                       np.array([[[0, 0, 1, 1, 1], [0, 1, 0, 1, 1]],
    ...                                 [[0, 0, 0, 2, 1], [1, 0, 1, 0, 1]]]))
    >>> h = raked_cell_headline(s, sums, {"a": 30, "b": 60}, [10.0, 20.0], overall_item=1)
    >>> by_rows = raked_headline(s, codes, list("aaabbb"), {"a": 30, "b": 60},
    ...                          [10.0] * 3 + [20.0] * 3, overall_item=1)
    >>> bool(np.isclose(h.composite, by_rows.composite, rtol=1e-12))
    True
    """
    cells = sums.cells(weights, population_by_stratum)[0]
    return _headline(stats, cell_point_means(cells), overall_item)


def _headline(stats: CampaignStatistics, means: np.ndarray, overall_item: int) -> RakedHeadline:
    """The headline of the raked means of every item's rate, then its index."""
    n_items = means.size // 2
    old = stats.composite
    composite = composite_index(
        [float(m) for m in means[n_items:]], {d.name: d.items for d in old.dimensions},
        dimension_weights=[d.weight for d in old.dimensions], weights_method=old.weights_method)
    rates, indices = tuple(means[:n_items].tolist()), tuple(means[n_items:].tolist())
    return RakedHeadline(rates, indices, rates[overall_item], indices[overall_item],
                         score_from_index(indices[overall_item]), composite.overall)


def _raked_dimensions(composite, items, variances) -> tuple[DimensionStatistics, ...]:
    """Dimension indices and rates with their SEs under the raking margins (a one-item
    dimension: its item's); ``variances`` those of the dimensions' indices, then rates."""
    n_dims = len(composite.dimensions)
    index_se, rate_se = np.sqrt(variances[:n_dims]), np.sqrt(variances[n_dims:])
    return tuple(
        DimensionStatistics(d.name, d.index,
                            dimension_rate([items[i].rate.estimate for i in d.items]),
                            d.items, DIMENSION_CONVENTION,
                            items[d.items[0]].index.se if len(d.items) == 1
                            else float(index_se[k]),
                            items[d.items[0]].rate.se if len(d.items) == 1
                            else float(rate_se[k]))
        for k, d in enumerate(composite.dimensions))
