"""Campaign statistics from category counts and per-stratum pair sums, without the rows.

:func:`campaign_statistics_from_sums` returns what :func:`analysis.campaign_statistics`
returns with ``reliability=False, item_intervals=False, drivers=False,
linearised_ses=True``: every item's summaries, stratified rate and index and reported
estimates (all functions of the category counts), the dimensions, the composite index, and
the Taylor-linearised SEs of the composite and of each dimension's index and rate. Those SEs
are sums of squares of a respondent-level variable z_i that is linear in the answers, so
per stratum they expand into sums over pairs of items (:class:`StratumPairSums`), which a
store can keep and add up cell by cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

# _composite_coefficients is the composite's own linear form: sharing it keeps the
# row-based and the summed SE on one definition of c_j.
from analysis.campaign import (
    CampaignStatistics,
    DimensionStatistics,
    ItemStatistics,
    _composite_coefficients,
    stratum_moments,
)
from analysis.composite import composite_index
from analysis.conventions import COMPOSITE_CONVENTION, DIMENSION_CONVENTION
from analysis.estimates import MeasureName, dimension_rate, item_estimates
from analysis.indicator import (
    BandRule,
    ProportionalRule,
    StepwiseRule,
    indicator_from_estimates,
)
from analysis.intervals import Interval, interval_from_se
from analysis.measures import summary_from_counts
from analysis.response_table import MISSING_SLOT, N_SLOTS, NA_SLOT
from analysis.stratified import stratified_mean_from_moments

__all__ = ["StratumPairSums", "campaign_statistics_from_sums"]

_CODE_VALUES = np.arange(1, 6, dtype=float)
_RATE_VALUES = np.array([0.0, 0.0, 0.0, 1.0, 1.0])


@dataclass(frozen=True, slots=True)
class StratumPairSums:
    """Sums over the responses of each stratum valid (code 1..5) on both items j and m.

    Every array has shape (strata, items, items); element [h, j, m] is taken over the
    responses of stratum h with a valid answer to item j and to item m (j == m: item j
    alone). Only the items of the dimensions are read; other rows and columns may hold
    anything (the overall item has no pair sums).

    ``n`` the number of those responses (symmetric); ``sums`` Σ y_j, the codes of item j
    (the sum of item m's codes over the same responses is ``sums[h, m, j]``); ``products``
    Σ y_j y_m (symmetric, the diagonal Σ y_j²); ``satisfied`` how many answered item j
    with 4 or 5 (item m's: ``satisfied[h, m, j]``); ``satisfied_both`` how many answered
    both with 4 or 5 (symmetric, the diagonal equal to ``satisfied``).
    """

    n: np.ndarray
    sums: np.ndarray
    products: np.ndarray
    satisfied: np.ndarray
    satisfied_both: np.ndarray

    @classmethod
    def from_upper(cls, n, sum_a, sum_b, sum_ab, sat_a, sat_b, sat_ab) -> StratumPairSums:
        """The full arrays from sums stored once per pair a <= b (as ``PairSum`` rows).

        Parameters
        ----------
        n, sum_a, sum_b, sum_ab, sat_a, sat_b, sat_ab : array_like, (strata, items, items)
            Element [h, a, b] for a <= b holds the pair's sums (``_a`` item a's, ``_b`` item
            b's); elements below the diagonal are ignored.

        Returns
        -------
        StratumPairSums

        Examples
        --------
        >>> up = np.array([[[2, 1], [0, 3]]])
        >>> p = StratumPairSums.from_upper(up, up, 2 * up, up, up, up, up)
        >>> p.n[0].tolist(), p.sums[0].tolist()
        ([[2.0, 1.0], [1.0, 3.0]], [[2.0, 1.0], [2.0, 3.0]])
        """
        def mirror(upper, lower=None):
            upper = np.asarray(upper, dtype=float)
            lower = upper if lower is None else np.asarray(lower, dtype=float)
            return np.triu(upper) + np.swapaxes(np.triu(lower, 1), -1, -2)

        return cls(mirror(n), mirror(sum_a, sum_b), mirror(sum_ab), mirror(sat_a, sat_b),
                   mirror(sat_ab))


def campaign_statistics_from_sums(
    counts,
    pairs: StratumPairSums,
    strata: Sequence[object],
    population_by_stratum: Mapping[object, float],
    dimensions: Mapping[str, Sequence[int]],
    overall_item: int,
    *,
    item_names: Sequence[str] | None = None,
    na_code: int = 9,
    confidence: float = 0.95,
    dimension_weights: Sequence[float] | None = None,
    weights_method: str = "equal",
    target: float = 0.90,
    points: float = 10.0,
    rule: ProportionalRule | StepwiseRule | BandRule | None = None,
    indicator_measure: MeasureName = "rate",
) -> CampaignStatistics:
    """:func:`analysis.campaign_statistics` (no reliability, item intervals or drivers) from
    category counts and pair sums.

    Parameters
    ----------
    counts : array_like of int, shape (items, strata, 7)
        Per item and stratum the responses by answer: codes 1..5, not applicable, missing
        (the slots of :func:`analysis.response_table.category_table`). Every response has
        one answer per item, so each item's counts of a stratum add up to its respondents.
    pairs : StratumPairSums
        The dimension items' pair sums, strata in the order of ``counts``.
    strata : sequence, length strata
        The strata's labels in the order of ``counts``; a stratum without respondents is
        left out, as it has no row in a response matrix. The row-based statistics order the
        strata by label: pass them sorted to get the same ``by_stratum`` order.
    population_by_stratum : mapping
        Stratum label -> population size N_h.
    dimensions, overall_item, item_names, na_code, confidence, dimension_weights,
    weights_method, target, points, rule, indicator_measure
        As :func:`analysis.campaign_statistics` (``na_code`` only names the convention).

    Returns
    -------
    CampaignStatistics
        ``reliability``, ``drivers`` and ``ipa`` None, item intervals None.

    Notes
    -----
    Item statistics are functions of the counts. The linearised variable of respondent i
    in stratum h is z_i = Σ_j b_hj v_ij (y_ij − m_hj), b_hj = c_j W_hj r_h / V_hj
    (:func:`analysis.linearisation.linearised_se`), y the code (index) or the satisfied
    indicator (rate). Σ_i z_i = 0 in each stratum, and

        Σ_i z_i² = Σ_{j,m} b_hj b_hm [(n P − S_j S_m)/n + e_j e_m/(n V_hj V_hm)],

    with n, S_j, S_m, P the pair's count, sums and sum of products in stratum h and
    e_j = S_j V_hj − n Y_hj (Y_hj the item's total over its V_hj valid answers): the
    pair's co-moment plus n times the product of its means' offsets from the stratum
    means. With integer codes both numerators are exact integers, so no cancellation of
    large raw sums enters the variance. Var = Σ_h (1 − r_h/N_h) Σ_i z_i²/((r_h − 1) r_h).

    References
    ----------
    Wolter, K. (2007). Introduction to Variance Estimation, ch. 6 (Taylor series).

    Examples
    --------
    >>> from analysis.campaign import campaign_statistics
    >>> codes = np.array([[5, 4, 3, 4, 5, 2], [4, 9, 3, 5, 5, 1], [5, 4, 4, 3, 5, 4]])
    >>> strata, population = list("aaabbb"), {"a": 30, "b": 60}
    >>> rows = campaign_statistics(codes, strata, population, {"d": [0, 1]}, 2,
    ...                            reliability=False, item_intervals=False, drivers=False)
    >>> counts = np.zeros((3, 2, 7), dtype=int)
    >>> for j in range(3):
    ...     for i, code in enumerate(codes[j]):
    ...         counts[j, i // 3, 5 if code == 9 else code - 1] += 1
    >>> v = (codes <= 5).astype(int).reshape(3, 2, 3).transpose(1, 0, 2)
    >>> y = np.where(codes <= 5, codes, 0).reshape(3, 2, 3).transpose(1, 0, 2)
    >>> s = (y >= 4).astype(int)
    >>> pairs = StratumPairSums(v @ v.transpose(0, 2, 1), y @ v.transpose(0, 2, 1),
    ...                         y @ y.transpose(0, 2, 1), s @ v.transpose(0, 2, 1),
    ...                         s @ s.transpose(0, 2, 1))
    >>> sums = campaign_statistics_from_sums(counts, pairs, ["a", "b"], population,
    ...                                      {"d": [0, 1]}, 2)
    >>> round(sums.composite_se, 10) == round(rows.composite_se, 10)
    True
    >>> sums.dimensions[0].rate_se == rows.dimensions[0].rate_se
    True
    """
    counts, labels, population, present = _present_strata(counts, strata,
                                                          population_by_stratum)
    names = (tuple(f"Q{j + 1}" for j in range(counts.shape[0])) if item_names is None
             else tuple(item_names))
    items = tuple(_item_statistics(names[j], counts[j], labels, population, confidence)
                  for j in range(len(names)))
    composite = composite_index(np.array([it.index.estimate for it in items]), dimensions,
                                dimension_weights=dimension_weights,
                                weights_method=weights_method)
    design = _PairDesign(counts, _strata_of_pairs(pairs, present), population)
    composite_se = design.se(_composite_coefficients(composite, len(names)), rate=False)
    normal = interval_from_se(composite.overall, composite_se, confidence)
    return CampaignStatistics(
        strata=tuple(labels.tolist()),
        items=items,
        composite=composite,
        composite_se=composite_se,
        composite_interval=Interval(normal.estimate, normal.low, normal.high, confidence,
                                    "normal interval, Taylor-linearised stratified SE with FPC"),
        reliability=None,
        drivers=None,
        ipa=None,
        indicator=indicator_from_estimates(items[overall_item].estimates, indicator_measure,
                                           target, points, rule),
        n_respondents=int(design.respondents.sum()),
        convention="stratified by population share N_h/N with FPC; item intervals "
        f"not computed; composite SE Taylor-linearised; NA code {na_code} and missing "
        f"excluded from every denominator; indicator from the overall item's {indicator_measure}",
        dimensions=_dimensions(composite, items, design),
        composite_convention=COMPOSITE_CONVENTION,
    )


def _present_strata(counts, strata, population_by_stratum):
    """Counts, labels and N_h of the strata with respondents; checks what a response matrix
    guarantees (one answer per item and response, a valid answer to every item)."""
    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.shape[2] != N_SLOTS:
        raise ValueError(f"counts must be items x strata x {N_SLOTS} answer slots")
    labels = np.asarray(strata)
    if labels.shape != (counts.shape[1],):
        raise ValueError("one label per stratum of counts is required")
    per_item = counts.sum(axis=2)
    if np.any(per_item != per_item[0]):
        raise ValueError("every item needs one answer per response: respondents differ")
    present = per_item[0] > 0
    counts, labels = counts[:, present], labels[present]
    missing = [lab for lab in labels.tolist() if lab not in population_by_stratum]
    if missing:
        raise ValueError(f"no population size for strata {missing}")
    empty = np.flatnonzero(counts[..., :5].sum(axis=(1, 2)) == 0)
    if empty.size:
        raise ValueError(f"items without any valid answer: {empty.tolist()}")
    population = np.array([float(population_by_stratum[lab]) for lab in labels.tolist()])
    return counts, labels, population, present


def _strata_of_pairs(pairs: StratumPairSums, present: np.ndarray) -> StratumPairSums:
    """The pair sums of the strata with respondents."""
    shape = (present.size, *np.shape(pairs.n)[1:])
    if any(np.shape(getattr(pairs, f.name)) != shape for f in fields(StratumPairSums)) \
            or shape[1:] != (shape[1], shape[1]):
        raise ValueError("pair sums must be strata x items x items, strata as the counts'")
    if present.all():
        return pairs
    return StratumPairSums(*(np.asarray(getattr(pairs, f.name))[present]
                             for f in fields(StratumPairSums)))


def _item_statistics(name: str, counts: np.ndarray, labels: np.ndarray,
                     population: np.ndarray, confidence: float) -> ItemStatistics:
    """One item from its (strata, 7) counts, as :func:`analysis.campaign_statistics` does
    from the rows: strata without a valid answer drop out of its weights."""
    def summary(row):
        return summary_from_counts(row[:5], n_na=int(row[NA_SLOT]),
                                   n_missing=int(row[MISSING_SLOT]))

    answered = counts[:, :5].sum(axis=1) > 0
    r, rate_h, var_rate, mean_h, var_mean = stratum_moments(counts[answered, :5])
    answered_labels, answered_population = labels[answered].tolist(), population[answered]
    rate = stratified_mean_from_moments(answered_labels, r, rate_h, var_rate,
                                        answered_population, measure="satisfaction rate")
    index = stratified_mean_from_moments(answered_labels, r, (mean_h - 1) * 25,
                                         var_mean * 625, answered_population, measure="index")
    return ItemStatistics(name=name, summary=summary(counts.sum(axis=0)),
                          by_stratum=tuple(summary(row) for row in counts), rate=rate,
                          rate_interval=None, index=index, index_interval=None,
                          estimates=item_estimates(rate, index, confidence))


def _dimensions(composite, items: Sequence[ItemStatistics],
                design: _PairDesign) -> tuple[DimensionStatistics, ...]:
    """Each dimension's index, rate and their linearised SEs (a one-item dimension: its
    item's SEs, as the row-based statistics report them)."""
    out = []
    for d in composite.dimensions:
        if len(d.items) == 1:
            index_se, rate_se = items[d.items[0]].index.se, items[d.items[0]].rate.se
        else:
            coef = np.zeros(len(items))
            for item, u in zip(d.items, d.item_weights, strict=True):
                coef[item] += u
            index_se, rate_se = design.se(25.0 * coef, rate=False), design.se(coef, rate=True)
        out.append(DimensionStatistics(
            d.name, d.index, dimension_rate([items[i].rate.estimate for i in d.items]),
            d.items, DIMENSION_CONVENTION, index_se, rate_se))
    return tuple(out)


class _PairDesign:
    """The stratified design of the counts and pair sums, for linearised SEs of linear
    combinations Σ_j c_j m_j of item means (of the codes or of the satisfied indicators)."""

    def __init__(self, counts: np.ndarray, pairs: StratumPairSums, population: np.ndarray):
        self.respondents = counts[0].sum(axis=1).astype(float)
        self.population = population
        self.valid = counts[..., :5].sum(axis=2).T.astype(float)  # strata x items
        answered = self.valid > 0
        # W_hj: each item's own stratum weights (strata without a valid answer get 0).
        item_population = np.where(answered, population[:, None], 0.0)
        share = item_population / np.maximum(item_population.sum(axis=0, keepdims=True), 1)
        self.scale = np.where(answered, share * self.respondents[:, None]
                              / np.maximum(self.valid, 1), 0.0)
        self.totals = {rate: (counts[..., :5] @ values).T
                       for rate, values in ((False, _CODE_VALUES), (True, _RATE_VALUES))}
        self.pairs = pairs

    def se(self, coef: np.ndarray, *, rate: bool) -> float:
        """SE (with FPC) of Σ_j c_j m_j; only the items with c_j != 0 are read."""
        idx = np.flatnonzero(coef)
        cross = np.ix_(np.arange(self.respondents.size), idx, idx)
        n = np.asarray(self.pairs.n, dtype=float)[cross]
        if rate:
            sums, products = self.pairs.satisfied, self.pairs.satisfied_both
        else:
            sums, products = self.pairs.sums, self.pairs.products
        s_a = np.asarray(sums, dtype=float)[cross]
        s_b, products = np.swapaxes(s_a, 1, 2), np.asarray(products, dtype=float)[cross]
        valid, totals = self.valid[:, idx], self.totals[rate][:, idx]
        # Offsets of the pair's sums from n times the stratum means, times n V_hj: integers.
        e_a = s_a * valid[:, :, None] - n * totals[:, :, None]
        e_b = np.swapaxes(e_a, 1, 2)
        v_ab = valid[:, :, None] * valid[:, None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            moments = np.where(n > 0, (n * products - s_a * s_b) / n
                               + e_a * e_b / (n * v_ab), 0.0)
        b = coef[idx][None, :] * self.scale[:, idx]
        sum_z2 = np.einsum("hj,hjm,hm->h", b, moments, b)
        r = self.respondents
        var_h = np.where(r > 1, sum_z2 / np.maximum(r - 1, 1), 0.0)
        # A variance that is 0 may come out a few ulps below it (the rows' sum of squares
        # cannot): 0, not a complex root.
        return max(0.0, float(np.sum((1 - r / self.population) * var_h
                                     / np.maximum(r, 1)))) ** 0.5
