"""Raked means and variances from per-cell sums (analysis.raked_cells) against the
per-respondent computation they replace (issue 18's cold-document benchmark).

Reference: :func:`analysis.raking.raked_means` (per-respondent ratio means and influence
values) and :func:`analysis.raking.calibrated_variance` (R survey's svyrecvar: ten sweeps
of the influence values by the margins, then the stratified variance; itself checked
against R in ``test_raking.py``), on random designs built here: several strata, a stratum
with one respondent, two raking margins crossed with the strata, weights raked with
binding trims (or not constant within a cell at all), missing and NA answers, a stratum
with no valid answer to an item. Only the order of summation differs, so rtol 1e-12.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import (
    calibrated_variance,
    campaign_statistics,
    rake_weights,
    raked_campaign_statistics,
    raked_means,
)
from analysis.raked_cells import RakedCells, cell_ratio_means, combination_variances


def _design(seed: int, *, constant_in_cells: bool = True):
    """Codes (items × n), strata, N_h, margins (crossed with the strata) and weights."""
    rng = np.random.default_rng(seed)
    sizes = [140, 90, 60, 1]  # the last stratum: one respondent
    strata = np.repeat(np.arange(len(sizes)), sizes)
    n = strata.size
    population = np.array([900.0, 400.0, 300.0, 7.0])
    community, project = rng.integers(0, 3, n), rng.integers(0, 2, n)
    margins = [strata * 3 + community, strata * 2 + project]
    margins = [np.unique(m, return_inverse=True)[1] for m in margins]
    codes = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, np.nan], size=(6, n),
                       p=[0.1, 0.15, 0.2, 0.25, 0.2, 0.05, 0.05])
    codes[2, strata == 1] = np.nan  # no valid answer to item 2 in stratum 1
    codes[4, strata == 2] = 9.0  # nor to item 4 in stratum 2 (all NA)
    base = (population / np.bincount(strata))[strata]
    if not constant_in_cells:
        return codes, strata, population, margins, base * rng.uniform(0.5, 1.5, n)
    targets = [np.bincount(m, weights=base) * rng.uniform(0.4, 2.5, m.max() + 1)
               for m in margins]
    for t, m in zip(targets, margins, strict=True):  # each stratum's targets sum to N_h
        for h in range(len(sizes)):
            cats = np.unique(m[strata == h])
            t[cats] *= population[h] / t[cats].sum()
    raked = rake_weights(margins, targets, base, trim=(0.8, 1.25))
    assert raked.n_trimmed > 0  # the trims bind
    return codes, strata, population, margins, raked.weights


def _rows(codes):
    valid = (codes >= 1) & (codes <= 5)
    rate = np.where(valid, (codes >= 4).astype(float), np.nan)
    return np.vstack([rate, np.where(valid, (codes - 1) * 25, np.nan)])


def _stratum_fields(e):
    return [(s.label, s.respondents, s.design_weight, s.population_share, s.mean,
             s.variance, s.weighting_deff) for s in e.strata]


@pytest.mark.parametrize(("seed", "constant"), [(1, True), (2, True), (3, False)])
def test_cell_sums_equal_the_per_respondent_means_and_variances(seed, constant):
    codes, strata, population, margins, w = _design(seed, constant_in_cells=constant)
    labels = ["a", "b", "c", "d"]
    ref, u = raked_means(_rows(codes), strata, w, population, labels, margins)
    cells = RakedCells.of(codes, w, strata, population, margins)
    got, tables = cell_ratio_means(cells, labels)
    assert len(got) == len(ref) == 12
    for g, r in zip(got, ref, strict=True):
        assert_allclose([g.estimate, g.se, g.se_without_fpc, g.effective_n, g.design_effect,
                         g.population], [r.estimate, r.se, r.se_without_fpc, r.effective_n,
                                         r.design_effect, r.population], rtol=1e-12)
        assert g.n == r.n and [s.label for s in g.strata] == [s.label for s in r.strata]
        for gs, rs in zip(_stratum_fields(g), _stratum_fields(r), strict=True):
            assert gs[:2] == rs[:2]
            assert_allclose(gs[2:], rs[2:], rtol=1e-12, atol=1e-15)
    assert [s.label for s in got[2].strata] == ["a", "c", "d"]  # b: no valid answer
    # Linear combinations (composite, dimensions) against calibrated_variance of the same
    # combination of the per-respondent influence values.
    coef = np.random.default_rng(seed).normal(size=(5, 12))
    coef[0, :6] = 0.0  # an index-only row, like the composite
    coef[1, 6:] = 0.0  # a rate-only row
    for fpc, got_var in zip((True, False), combination_variances(cells, tables, coef),
                            strict=True):
        assert_allclose(got_var, calibrated_variance(coef @ u, w, strata, population,
                                                     margins, fpc=fpc), rtol=1e-12)


def test_without_margins_the_cells_are_the_strata():
    codes, strata, population, _margins, w = _design(4)
    ref, u = raked_means(_rows(codes), strata, w, population, list("abcd"))
    cells = RakedCells.of(codes, w, strata, population)
    got, tables = cell_ratio_means(cells, list("abcd"))
    assert_allclose([g.se for g in got], [r.se for r in ref], rtol=1e-12)
    coef = np.ones((1, 12))
    assert_allclose(combination_variances(cells, tables, coef)[0],
                    calibrated_variance(coef @ u, w, strata, population), rtol=1e-12)


def _per_respondent_raked(stats, codes, labels, pops, w, strata, population, margins):
    """The composite's and dimensions' SEs as raked_campaign_statistics computed them
    before the per-cell sums: calibrated_variance of the items' index and rate influence
    values combined per respondent."""
    ref, u = raked_means(_rows(codes), strata, w, population, sorted(pops), margins)
    n_items = codes.shape[0]
    comp = stats.composite
    total = sum(d.weight for d in comp.dimensions)
    rows, coef_c = [], np.zeros(n_items)
    for d in comp.dimensions:
        c = np.zeros(n_items)
        for item, share in zip(d.items, d.item_weights, strict=True):
            c[item] += share
            coef_c[item] += d.weight / total * share
        rows.append((c @ u[n_items:], c @ u[:n_items]))
    dim_var = [calibrated_variance(np.vstack(r), w, strata, population, margins)
               for r in rows]
    comp_var = calibrated_variance((coef_c @ u[n_items:])[None, :], w, strata, population,
                                   margins)[0]
    return ref, np.sqrt(comp_var), np.sqrt(dim_var)


def test_raked_campaign_statistics_equal_the_per_respondent_computation():
    codes, strata, population, margins, w = _design(5)
    labels = np.array(list("abcd"))[strata]
    pops = dict(zip("abcd", population, strict=True))
    dims = {"d1": [0, 1, 2], "d2": [3, 4], "d3": [5]}
    design = campaign_statistics(codes, labels, pops, dims, 5, item_intervals=False,
                                 drivers=False, reliability=False)
    raked = raked_campaign_statistics(design, codes, labels, pops, w, margins,
                                      overall_item=5)
    ref, comp_se, dim_se = _per_respondent_raked(raked, codes, labels, pops, w, strata,
                                                 population, margins)
    n_items = codes.shape[0]
    assert_allclose([it.rate.se for it in raked.items], [r.se for r in ref[:n_items]],
                    rtol=1e-12)
    assert_allclose([it.index.estimate for it in raked.items],
                    [r.estimate for r in ref[n_items:]], rtol=1e-12)
    assert_allclose(raked.composite_se, comp_se, rtol=1e-12)
    for d, se in zip(raked.dimensions[:2], dim_se[:2], strict=True):
        assert_allclose([d.index_se, d.rate_se], se, rtol=1e-12)
    assert raked.dimensions[2].index_se == raked.items[5].index.se  # a one-item dimension
