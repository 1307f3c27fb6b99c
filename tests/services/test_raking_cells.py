"""The raked document from raking-cell counts (services/raking_cells.py) against the
per-respondent path it replaces: the raking of the counted respondents
(nonresponse.rake_counted) and the raked cell statistics and headline
(cell_statistics), on the demo campaign. The stored rows are summed here from the counted
responses, per raking cell and mode, as the stored families hold them."""

from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose

import analysis
from survey_app.services import campaigns, demo, nonresponse, raking_cells, scores
from survey_app.services.cell_statistics import cell_inputs, cell_statistics, raked_headline
from survey_app.services.counted_data import CountedData, Factor, load_counted
from survey_app.services.score_filters import ScoreFilters


@pytest.fixture
def heshan(session):
    return campaigns.get_campaign(demo.SLUG, session=session)


def _keys(data) -> list:
    """Each counted respondent's raking cell (group, project code, community code)."""
    factors = [data.factor(k) for k in ("groups", "projects", "communities")]
    return [tuple(f.labels[c] for f, c in zip(factors, codes, strict=True))
            for codes in zip(*(f.codes.tolist() for f in factors), strict=True)]


def _stored_rows(data, keys):
    """Category-count and pair-sum rows per raking cell and mode (not summed over modes)."""
    cell_mode = Factor.of([(*k, m) for k, m in zip(keys, data.modes, strict=True)])
    size = len(cell_mode.labels)
    counts = []
    for j, item in enumerate(data.item_ids):
        code = np.nan_to_num(data.codes[j], nan=0.0).astype(np.int64)
        n = np.bincount(cell_mode.codes * 10 + code, minlength=size * 10).reshape(size, 10)
        counts += [(*cell_mode.labels[c][:3], item, k, int(n[c, k]))
                   for c, k in zip(*np.nonzero(n), strict=True)]
    dim_items = sorted(i for items in data.dimensions.values() for i in items)
    valid = data.valid_answers
    pairs = []
    for a in dim_items:
        for b in (b for b in dim_items if b >= a):
            ja, jb = data.item_ids.index(a), data.item_ids.index(b)
            both = valid[ja] & valid[jb]
            ca, cb = np.where(both, data.codes[ja], 0), np.where(both, data.codes[jb], 0)
            sums = [np.bincount(cell_mode.codes, weights=v, minlength=size)
                    for v in (both, ca, cb, ca * cb, ca >= 4, cb >= 4, (ca >= 4) & (cb >= 4))]
            pairs += [(*cell_mode.labels[c][:3], a, b, *(int(s[c]) for s in sums))
                      for c in np.flatnonzero(sums[0]).tolist()]
    return counts, pairs


@pytest.mark.demo_data
@pytest.mark.parametrize("filters", [ScoreFilters(), ScoreFilters(mode="paper")])
def test_raking_cells_give_the_respondents_weights(session, heshan, filters):
    data = load_counted(heshan, filters, session=session)
    roster = scores.roster_counts(heshan, session=session)
    pops = roster.populations()
    ref = nonresponse.rake_counted(data, roster.counts, pops, filters)
    keys = _keys(data)
    got = raking_cells.rake_cells(Counter(keys), roster.counts, pops, filters)
    at = [got.cells.index(k) for k in keys]
    assert len(got.cells) < len(keys)
    assert_allclose(got.weights[at], ref.weights, rtol=1e-12)
    assert_allclose(got.design_weights[at], ref.design_weights, rtol=0)
    assert got.merged == ref.merged
    assert (got.result.iterations, got.result.converged, got.result.n_trimmed) == (
        ref.result.iterations, ref.result.converged, ref.result.n_trimmed)
    ratio, ref_ratio = got.weights / got.design_weights, ref.weights / ref.design_weights
    assert_allclose([ratio.min(), ratio.max()], [ref_ratio.min(), ref_ratio.max()],
                    rtol=1e-12)
    # The non-response section reports the cells' raking as the respondents'.
    sections = [nonresponse.nonresponse_section(
        heshan, data.overall_item, nonresponse.sample_respondents(data), raking,
        (float((raking.weights / raking.design_weights).min()),
         float((raking.weights / raking.design_weights).max())), None, None,
        weighting="design", session=session) for raking in (got, ref)]
    assert sections[0].raking == sections[1].raking is not None


def test_a_roster_category_without_respondents_is_merged_in_cells_too():
    # As test_nonresponse's hand-made case, plus an open-link respondent (no project or
    # community): it keeps its design-weighted share, the others share the rest.
    counts = {("g", "P", "A"): 60, ("g", "P", "B"): 40}
    got = raking_cells.rake_cells({("g", "P", "A"): 2, ("g", None, None): 1}, counts,
                                  {"g": 100}, ScoreFilters())
    data = CountedData(campaign=None, questionnaires={}, item_ids=[], overall_item="",
                       dimensions={}, labels={}, groups=["g"] * 3, codes=np.zeros((0, 3)))
    data._factors["communities"] = Factor.of(["A", "A", None])
    data._factors["projects"] = Factor.of(["P", "P", None])
    ref = nonresponse.rake_counted(data, counts, {"g": 100}, ScoreFilters())
    assert got.cells == (("g", "P", "A"), ("g", None, None))
    assert_allclose(got.weights[[0, 0, 1]], ref.weights, rtol=1e-12)
    assert got.merged == ref.merged == ("g/community:B",)
    assert raking_cells.rake_cells({("g", "P", "A"): 0}, counts, {"g": 100},
                                   ScoreFilters()) is None


def _numbers(stats):
    items = [[e.estimate, e.se, e.se_without_fpc, e.effective_n]
             for it in stats.items for e in (it.rate, it.index)]
    dims = [[d.index, d.rate, d.index_se, d.rate_se] for d in stats.dimensions]
    ind = stats.indicator
    return (np.array(items).ravel().tolist() + np.array(dims).ravel().tolist()
            + [stats.composite.overall, stats.composite_se, stats.composite_interval.low,
               ind.actual, ind.se, ind.points_earned, ind.probability_meets_target])


def _cell_sums(data, keys, mask, cell_pops, raking, rows):
    """The cell's RakingCellSums and weights from the stored rows, its N_h by group and its
    overall item's row, as cell_inputs gives the per-respondent path."""
    _y, _strata, pop, _dims, overall_row, present = cell_inputs(data, mask, cell_pops)
    item_ids = [data.item_ids[j] for j in present]
    in_dims = {i for items in data.dimensions.values() for i in items}
    sums, w = raking_cells.cell_sums(
        raking, Counter(k for k, m in zip(keys, mask.tolist(), strict=True) if m),
        item_ids, [i for i in item_ids if i in in_dims], *rows)
    groups = data.factor("groups").labels
    return sums, w, {groups[k]: n for k, n in pop.items()}, overall_row


@pytest.mark.demo_data
def test_raked_cells_from_stored_rows_equal_the_document_cells(session, heshan):
    filters = ScoreFilters(weighting="raked")
    data = load_counted(heshan, filters, session=session)
    roster = scores.roster_counts(heshan, session=session)
    pops = roster.populations()
    ref_raking = nonresponse.rake_counted(data, roster.counts, pops, filters)
    keys = _keys(data)
    raking = raking_cells.rake_cells(Counter(keys), roster.counts, pops, filters)
    rows = _stored_rows(data, keys)
    everyone = np.ones(len(keys), dtype=bool)
    community = data.factor("communities").values()[0]
    for mask, cell_pops in ((everyone, pops), (data.factor("communities").mask(community),
                                               roster.populations(community=community))):
        stats, design = cell_statistics(data, mask, cell_pops, raking=ref_raking)
        sums, w, pop, overall_row = _cell_sums(data, keys, mask, cell_pops, raking, rows)
        assert sums.respondents.sum() == mask.sum() and len(w) < mask.sum()
        got = analysis.raked_cell_statistics(
            design, sums, pop, w, overall_item=overall_row, target=heshan.indicator_target,
            points=heshan.indicator_points)
        assert_allclose(_numbers(got), _numbers(stats), rtol=1e-12)
        assert got.composite_se != design.composite_se
    # The headline of a design-weighted document: counts only, no pair sums.
    design = cell_statistics(data, everyone, pops)[1]
    ref = raked_headline(data, design, pops, ref_raking)
    sums, w, pop, overall_row = _cell_sums(data, keys, everyone, pops, raking, (rows[0],))
    assert not sums.pairs.n.any()
    got = analysis.raked_cell_headline(design, sums, pop, w, overall_item=overall_row)
    assert_allclose([got.overall_rate, got.overall_index, got.composite],
                    [ref.overall_rate, ref.overall_index, ref.composite], rtol=1e-12)
