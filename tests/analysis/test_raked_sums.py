"""The raked document's statistics from stored aggregates per raking cell (group ×
community × project: respondents, category counts, pair sums) against the per-respondent
functions they replace: :func:`analysis.rake_weights` of the respondents,
:func:`analysis.raked_campaign_statistics` and :func:`analysis.raked_headline` (themselves
checked against R survey in ``test_raking.py`` and ``test_raked_cells.py``).

Random designs built here: several strata, one with a single respondent, two raking margins
crossed with the strata, binding weight trims, NA and missing answers, a stratum without a
valid answer to an item, cells split over two modes (their records add up). The aggregates
are summed here from the rows, as the stored families hold them; only the order of
summation differs, so rtol 1e-12.
"""

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import (
    PairTables,
    RakingCellSums,
    campaign_statistics,
    pair_combination_variances,
    rake_weights,
    raked_campaign_statistics,
    raked_cell_headline,
    raked_cell_statistics,
    raked_headline,
)
from analysis.raked_cells import (
    RakedCells,
    cell_point_means,
    cell_ratio_means,
    combination_variances,
)

LABELS = ("g1", "g2", "g3", "g4")
DIMS = {"d1": [0, 1, 2], "d2": [3, 4], "d3": [5]}
OVERALL = 6


def _respondents(seed: int):
    """Codes (items × n), stratum 0..3, community, project and mode of every respondent."""
    rng = np.random.default_rng(seed)
    sizes = [150, 80, 50, 1]  # the last stratum: one respondent
    strata = np.repeat(np.arange(len(sizes)), sizes)
    n = strata.size
    codes = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, np.nan], size=(7, n),
                       p=[0.08, 0.12, 0.2, 0.3, 0.2, 0.05, 0.05])
    codes[2, strata == 1] = np.nan  # no valid answer to item 2 in stratum 1
    codes[4, strata == 2] = 9.0  # nor to item 4 in stratum 2 (all NA)
    codes[:6, :3] = np.nan  # three respondents without a dimension answer
    return codes, strata, rng.integers(0, 3, n), rng.integers(0, 2, n), rng.integers(0, 2, n)


def _margins(strata, community, project):
    """The raking margins (community and project within the stratum) of each respondent."""
    return [np.unique(strata * 3 + community, return_inverse=True)[1],
            np.unique(strata * 2 + project, return_inverse=True)[1]]


def _targets(rng, margins, strata, base, population):
    targets = [np.bincount(m, weights=base) * rng.uniform(0.4, 2.5, m.max() + 1)
               for m in margins]
    for t, m in zip(targets, margins, strict=True):  # each stratum's targets sum to N_h
        for h in range(population.size):
            cats = np.unique(m[strata == h])
            t[cats] *= population[h] / t[cats].sum()
    return targets


def _stored(codes, strata, community, project, mode):
    """What the stored families hold per raking cell (and mode, summed per cell here):
    the cells' keys, respondents, counts (items × G × 7: 1..5, NA, missing) and pair
    records of the dimension items (a <= b)."""
    key = (strata * 3 + community) * 2 + project
    keys, cell = np.unique(key, return_inverse=True)
    n_cells = keys.size
    respondents = np.bincount(cell, minlength=n_cells)
    counts = np.zeros((codes.shape[0], n_cells, 7), dtype=np.int64)
    for j in range(codes.shape[0]):
        slot = np.where(np.isnan(codes[j]), 6, np.where(codes[j] == 9, 5, codes[j] - 1))
        np.add.at(counts[j], (cell, slot.astype(int)), 1)
    valid = (codes >= 1) & (codes <= 5)
    sat = valid & (codes >= 4)
    records = []
    items = sorted(i for d in DIMS.values() for i in d)
    for g in range(n_cells):
        for m in (0, 1):
            rows = (cell == g) & (mode == m)
            for a in items:
                for b in (b for b in items if b >= a):
                    both = rows & valid[a] & valid[b]
                    if both.any():
                        ca, cb = codes[a, both], codes[b, both]
                        records.append((g, a, b, both.sum(), ca.sum(), cb.sum(), (ca * cb).sum(),
                                        sat[a, both].sum(), sat[b, both].sum(),
                                        (sat[a, both] & sat[b, both]).sum()))
    pairs = PairTables.of_records(items, n_cells, *np.array(records).T)
    return keys, cell, respondents, counts, pairs


def _case(seed: int, *, trim=(0.8, 1.25)):
    """The respondents, their raked weights and the same as raking cells."""
    codes, strata, community, project, mode = _respondents(seed)
    population = np.array([900.0, 400.0, 300.0, 7.0])
    base = (population / np.bincount(strata))[strata]
    margins = _margins(strata, community, project)
    targets = _targets(np.random.default_rng(seed + 100), margins, strata, base, population)
    raked = rake_weights(margins, targets, base, trim=trim)
    keys, cell, respondents, counts, pairs = _stored(codes, strata, community, project, mode)
    first = np.zeros(keys.size, dtype=np.intp)
    first[cell] = np.arange(cell.size)  # a respondent of every cell
    cell_margins = tuple(m[first] for m in margins)
    by_cells = rake_weights(cell_margins, targets, base[first], trim=trim,
                            respondents=respondents)
    sums = RakingCellSums(tuple(np.array(LABELS)[strata[first]]), cell_margins, respondents,
                          counts, pairs)
    return dict(codes=codes, strata=strata, population=population, margins=margins,
                raked=raked, by_cells=by_cells, cell=cell, sums=sums)


def test_raking_cells_gives_the_respondents_weights():
    case = _case(1)
    raked, by_cells = case["raked"], case["by_cells"]
    assert raked.n_trimmed > 0  # the trims bind
    assert_allclose(by_cells.weights[case["cell"]], raked.weights, rtol=1e-12)
    assert (by_cells.iterations, by_cells.converged, by_cells.n_trimmed) == (
        raked.iterations, raked.converged, raked.n_trimmed)
    assert by_cells.weights.size == case["sums"].respondents.size < raked.weights.size
    assert_allclose(by_cells.max_margin_error, raked.max_margin_error,
                    atol=1e-9 * case["population"].sum())


def test_raking_cells_without_trims_converge_to_the_same_weights():
    case = _case(2, trim=(0.01, 100.0))
    assert case["raked"].n_trimmed == case["by_cells"].n_trimmed == 0
    assert case["by_cells"].converged
    assert_allclose(case["by_cells"].weights[case["cell"]], case["raked"].weights, rtol=1e-12)


def test_a_raking_cell_category_without_respondents_is_refused():
    with pytest.raises(ValueError, match="no respondents"):
        rake_weights([[0, 1]], [[10.0, 5.0]], [5.0, 5.0], respondents=[3, 0])


def _design_statistics(case):
    labels = np.array(LABELS)[case["strata"]]
    pops = dict(zip(LABELS, case["population"], strict=True))
    stats = campaign_statistics(case["codes"], labels, pops, DIMS, OVERALL,
                                item_intervals=False, drivers=False, reliability=False)
    return stats, labels, pops


def _estimate_fields(e):
    return [e.estimate, e.se, e.se_without_fpc, e.effective_n, e.design_effect, e.population]


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_raked_cell_statistics_equal_the_per_respondent_statistics(seed):
    case = _case(seed)
    stats, labels, pops = _design_statistics(case)
    ref = raked_campaign_statistics(stats, case["codes"], labels, pops, case["raked"].weights,
                                    case["margins"], overall_item=OVERALL, target=0.8)
    got = raked_cell_statistics(stats, case["sums"], pops, case["by_cells"].weights,
                                overall_item=OVERALL, target=0.8)
    for g, r in zip(got.items, ref.items, strict=True):
        for measure in ("rate", "index"):
            ge, re_ = getattr(g, measure), getattr(r, measure)
            assert_allclose(_estimate_fields(ge), _estimate_fields(re_), rtol=1e-12)
            assert ge.n == re_.n and [s.label for s in ge.strata] == [s.label for s in re_.strata]
        for measure in ("rate", "index", "score"):
            ge, re_ = g.estimates.measure(measure), r.estimates.measure(measure)
            assert_allclose([ge.estimate, ge.se, ge.interval.low, ge.interval.high],
                            [re_.estimate, re_.se, re_.interval.low, re_.interval.high],
                            rtol=1e-12)
    assert "g2" not in [s.label for s in got.items[2].rate.strata]  # g2: no valid answer
    assert_allclose([got.composite.overall, got.composite_se, got.composite_interval.low,
                     got.composite_interval.high],
                    [ref.composite.overall, ref.composite_se, ref.composite_interval.low,
                     ref.composite_interval.high], rtol=1e-12)
    for g, r in zip(got.dimensions, ref.dimensions, strict=True):
        assert g.name == r.name and g.items == r.items
        assert_allclose([g.index, g.rate, g.index_se, g.rate_se],
                        [r.index, r.rate, r.index_se, r.rate_se], rtol=1e-12)
    gi, ri = got.indicator, ref.indicator
    assert_allclose([gi.actual, gi.se, gi.points_earned, gi.probability_meets_target],
                    [ri.actual, ri.se, ri.points_earned, ri.probability_meets_target],
                    rtol=1e-12)
    assert got.convention == ref.convention and got.composite_se != stats.composite_se


def test_the_headline_from_counts_is_the_per_respondent_headline():
    case = _case(6)
    stats, labels, pops = _design_statistics(case)
    ref = raked_headline(stats, case["codes"], labels, pops, case["raked"].weights,
                         overall_item=OVERALL)
    no_pairs = dataclasses.replace(case["sums"], pairs=None, margins=())
    got = raked_cell_headline(stats, no_pairs, pops, case["by_cells"].weights,
                              overall_item=OVERALL)
    assert_allclose(got.rates + got.indices, ref.rates + ref.indices, rtol=1e-12)
    assert_allclose([got.overall_rate, got.overall_index, got.overall_score, got.composite],
                    [ref.overall_rate, ref.overall_index, ref.overall_score, ref.composite],
                    rtol=1e-12)
    full = raked_cell_statistics(stats, case["sums"], pops, case["by_cells"].weights,
                                 overall_item=OVERALL)
    # bit for bit the estimates of the statistics from the same counts
    assert got.composite == full.composite.overall
    assert got.rates == tuple(it.rate.estimate for it in full.items)


def test_cells_without_respondents_change_nothing():
    case = _case(7)
    stats, _labels, pops = _design_statistics(case)
    sums, w = case["sums"], case["by_cells"].weights
    g = sums.respondents.size
    pairs = sums.pairs
    empty = PairTables(pairs.items, *(np.concatenate([t, np.zeros((1,) + t.shape[1:])])
                                      for t in (pairs.n, pairs.code_sums, pairs.code_products,
                                                pairs.sat_sums, pairs.sat_products)))
    padded = RakingCellSums(
        sums.strata + ("g9",), tuple(np.append(m, 0) for m in sums.margins),
        np.append(sums.respondents, 0),
        np.concatenate([sums.counts, np.zeros((sums.counts.shape[0], 1, 7), dtype=int)],
                       axis=1), empty)
    a = raked_cell_statistics(stats, sums, pops, w, overall_item=OVERALL)
    b = raked_cell_statistics(stats, padded, pops, np.append(w, np.nan), overall_item=OVERALL)
    assert padded.respondents.size == g + 1
    assert a.composite_se == b.composite_se and a.items[0].rate.se == b.items[0].rate.se


@pytest.mark.parametrize("with_margins", [True, False])
def test_pair_sums_give_the_combinations_variances(with_margins):
    case = _case(8)
    margins = case["margins"] if with_margins else ()
    w = case["raked"].weights
    rows = RakedCells.of(case["codes"], w, case["strata"], case["population"], margins)
    sums = case["sums"]
    cell_margins = sums.margins if with_margins else ()
    counted = RakedCells.of_counts(sums.counts, sums.respondents, case["by_cells"].weights,
                                   np.searchsorted(LABELS, sums.strata), case["population"],
                                   cell_margins)
    ref_est, ref_tables = cell_ratio_means(rows, list(LABELS))
    got_est, got_tables = cell_ratio_means(counted, list(LABELS))
    assert_allclose([e.se for e in got_est], [e.se for e in ref_est], rtol=1e-12)
    assert_allclose(cell_point_means(counted), [e.estimate for e in got_est], rtol=0)
    coef = np.random.default_rng(8).normal(size=(4, 14))
    coef[:, [6, 13]] = 0.0  # the overall item: no pair sums
    coef[:2, :7] = 0.0  # index-only combinations
    coef[2:, 7:] = 0.0  # rate-only
    for got, ref in zip(pair_combination_variances(counted, got_tables, coef, sums.pairs),
                        combination_variances(rows, ref_tables, coef), strict=True):
        assert_allclose(got, ref, rtol=1e-12)


def test_what_pair_sums_cannot_give_is_refused():
    case = _case(9)
    sums = case["sums"]
    cells, labels, pairs = sums.cells(case["by_cells"].weights,
                                      dict(zip(LABELS, case["population"], strict=True)))
    tables = cell_ratio_means(cells, labels)[1]
    mixed = np.zeros((1, 14))
    mixed[0, [0, 8]] = 1.0  # item 0's rate and item 1's index
    with pytest.raises(ValueError, match="rates and indices"):
        pair_combination_variances(cells, tables, mixed, pairs)
    overall = np.zeros((1, 14))
    overall[0, 13] = 1.0
    with pytest.raises(ValueError, match="no pair sums"):
        pair_combination_variances(cells, tables, overall, pairs)
    with pytest.raises(ValueError, match="from counts"):
        combination_variances(cells, tables, np.ones((1, 14)))
    bad = sums.counts.copy()
    bad[0, 0, 6] += 1  # one more missing answer than the cell has respondents
    with pytest.raises(ValueError, match="add up"):
        RakedCells.of_counts(bad, sums.respondents, case["by_cells"].weights,
                             np.searchsorted(LABELS, sums.strata), case["population"])
