"""Raking (IPF) to roster margins and raked estimates with their linearised SEs (issue 18).

Data: ``data/raking/responses.csv`` and ``roster.csv`` (made by ``make_raking_data.py`` there,
seeded): groups a (N 600) and b (N 1500), three communities, two projects; group b has no
valid answer to q2.

Reference numbers: R 4.2.2, survey 4.1.1, ``data/raking/raking.R`` (its output stored
beside it as ``raking.out``): strata = group, fpc = N_h, ``rake()`` to group x community and
group x project (epsilon 1e-12), per-item ratio means combined with the roster shares of the
groups with a valid answer, SEs by ``svycontrast`` of ``svytotal`` on the raked design.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import calibrated_variance, rake_weights, raked_stratified_mean

DATA = Path(__file__).parent / "data" / "raking"


def _r_reference() -> dict[str, tuple[float, float]]:
    out = {}
    for line in (DATA / "raking.out").read_text().splitlines():
        name, value, se = line.split()
        out[name.lower()] = (float(value), float(se))
    return out


def _case():
    with (DATA / "responses.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (DATA / "roster.csv").open(encoding="utf-8") as fh:
        roster = list(csv.DictReader(fh))
    groups = sorted({r["grp"] for r in roster})
    population = np.array([sum(r["grp"] == g for r in roster) for g in groups], dtype=float)
    strata = np.array([groups.index(r["grp"]) for r in rows])
    respondents = np.bincount(strata)
    categories, targets = [], []
    for key in ("comm", "proj"):
        cells = sorted({(r["grp"], r[key]) for r in roster})
        categories.append(np.array([cells.index((r["grp"], r[key])) for r in rows]))
        targets.append(np.array([sum((r["grp"], r[key]) == c for r in roster) for c in cells],
                                dtype=float))
    base = (population / respondents)[strata]
    codes = {j: np.array([float(r[j]) for r in rows]) for j in ("q1", "q2", "overall")}
    return groups, population, strata, categories, targets, base, codes


def test_raked_weights_equal_r_rake():
    _groups, population, _strata, categories, targets, base, _codes = _case()
    raked = rake_weights(categories, targets, base)
    ref = _r_reference()
    assert raked.converged and raked.n_trimmed == 0
    assert_allclose(raked.weights[:5], [ref[f"weight_{i}"][0] for i in range(1, 6)],
                    rtol=1e-9)
    assert_allclose(raked.weights.sum(), population.sum(), rtol=1e-12)
    for cats, target in zip(categories, targets, strict=True):
        assert_allclose(np.bincount(cats, weights=raked.weights), target, rtol=1e-9)


def test_raked_estimates_and_ses_equal_r_survey():
    groups, population, strata, categories, targets, base, codes = _case()
    w = rake_weights(categories, targets, base).weights
    ref = _r_reference()
    influence = {}
    for j, y in codes.items():
        valid = np.where(np.isin(y, [1, 2, 3, 4, 5]), y, np.nan)
        for measure, values in (("rate", (valid >= 4).astype(float)),
                                ("index", 25 * (valid - 1))):
            values = np.where(np.isnan(valid), np.nan, values)
            e, u = raked_stratified_mean(values, strata, w, population, groups, categories)
            influence[(j, measure)] = u
            assert_allclose([e.estimate, e.se], ref[f"{j}_{measure}"], rtol=1e-6,
                            err_msg=f"{j} {measure}")
    composite_u = (influence[("q1", "index")] + influence[("q2", "index")]) / 2
    se = float(np.sqrt(calibrated_variance(composite_u[None, :], w, strata, population,
                                           categories)[0]))
    assert_allclose(se, ref["composite"][1], rtol=1e-6)


def test_group_without_valid_answers_drops_out_of_the_item_weights():
    groups, population, strata, categories, targets, base, codes = _case()
    w = rake_weights(categories, targets, base).weights
    q2 = np.where(np.isin(codes["q2"], [1, 2, 3, 4, 5]), codes["q2"], np.nan)
    e, _u = raked_stratified_mean(q2, strata, w, population, groups, categories)
    assert [s.label for s in e.strata] == ["a"]
    assert e.strata[0].population_share == 1.0


def test_design_weights_give_the_design_estimate():
    # With the design weights and no margins the raked path is the stratified estimator
    # (analysis.stratified_mean, itself checked against R's fpc example).
    from analysis import stratified_mean
    groups, population, strata, _categories, _targets, base, codes = _case()
    y = np.where(np.isin(codes["q1"], [1, 2, 3, 4, 5]), 25 * (codes["q1"] - 1), np.nan)
    e, _u = raked_stratified_mean(y, strata, base, population, groups)
    by_group = {g: y[(strata == k) & ~np.isnan(y)] for k, g in enumerate(groups)}
    reference = stratified_mean(by_group, dict(zip(groups, population, strict=True)))
    assert_allclose(e.estimate, reference.estimate, rtol=1e-12)
    # respondents (not valid answers) in the FPC and a ratio linearisation: close, not equal
    assert_allclose(e.se, reference.se, rtol=0.05)


def test_trimming_keeps_weights_in_the_band_and_reports_the_margin_error():
    # Hand-made case: one respondent must carry a category of 90 households from a base
    # weight of 10, more than 3 x its base weight allows.
    raked = rake_weights([[0, 1, 1, 1]], [[90.0, 30.0]], [10.0] * 4, trim=(0.3, 3.0))
    assert raked.weights.tolist() == [30.0, 10.0, 10.0, 10.0] and raked.n_trimmed == 1
    assert not raked.converged and raked.max_margin_error == 60.0


def test_a_category_with_households_but_no_respondents_is_refused():
    with pytest.raises(ValueError, match="no respondents"):
        rake_weights([[0, 0]], [[5.0, 5.0]], [5.0, 5.0])


def test_raked_campaign_statistics_equal_r_survey():
    # The whole pipeline: composite of two one-item dimensions (q1, q2) = R's "composite".
    from analysis import campaign_statistics, raked_campaign_statistics
    groups, population, strata, categories, targets, base, codes = _case()
    w = rake_weights(categories, targets, base).weights
    responses = np.array([codes["q1"], codes["q2"], codes["overall"]])
    labels = np.array(groups)[strata]
    pops = dict(zip(groups, population, strict=True))
    design = campaign_statistics(responses, labels, pops, {"d1": [0], "d2": [1]}, 2,
                                 item_intervals=False, drivers=False, reliability=False)
    raked = raked_campaign_statistics(design, responses, labels, pops, w, categories,
                                      overall_item=2)
    ref = _r_reference()
    for j, name in enumerate(("q1", "q2", "overall")):
        item = raked.items[j]
        assert_allclose([item.rate.estimate, item.rate.se], ref[f"{name}_rate"], rtol=1e-6)
        assert_allclose([item.index.estimate, item.index.se], ref[f"{name}_index"], rtol=1e-6)
    assert_allclose([raked.composite.overall, raked.composite_se], ref["composite"], rtol=1e-6)
    assert raked.indicator.actual == raked.items[2].rate.estimate
    assert raked.items[0].summary == design.items[0].summary  # counts stay unweighted


def test_the_shortcuts_give_the_same_numbers():
    # raked_headline (the non-response section's raked side) and a RakedDesign shared by a
    # cell's variances are speed-ups of issue 18's benchmark: a RakedDesign's variances must
    # not move at all (compared with ==); raked_headline sums per respondent while the raked
    # statistics sum per raking cell (analysis.raked_cells), so they agree to rounding.
    from analysis import (
        RakedDesign,
        campaign_statistics,
        design_variance,
        raked_campaign_statistics,
        raked_headline,
    )
    groups, population, strata, categories, targets, base, codes = _case()
    w = rake_weights(categories, targets, base).weights
    responses = np.array([codes["q1"], codes["q2"], codes["overall"]])
    labels = np.array(groups)[strata]
    pops = dict(zip(groups, population, strict=True))
    design = campaign_statistics(responses, labels, pops, {"d1": [0, 1]}, 2,
                                 item_intervals=False, drivers=False, reliability=False)
    raked = raked_campaign_statistics(design, responses, labels, pops, w, categories,
                                      overall_item=2)
    headline = raked_headline(design, responses, labels, pops, w, overall_item=2)
    assert_allclose(headline.rates, [it.rate.estimate for it in raked.items], rtol=1e-13)
    assert_allclose(headline.indices, [it.index.estimate for it in raked.items], rtol=1e-13)
    assert_allclose(headline.overall_score, raked.items[2].estimates.score.estimate,
                    rtol=1e-13)
    assert_allclose(headline.composite, raked.composite.overall, rtol=1e-13)
    rng = np.random.default_rng(18)
    u = rng.normal(size=(4, len(w)))
    prepared = RakedDesign.of(w, strata, population, categories)
    for fpc in (True, False):
        assert np.array_equal(design_variance(u, prepared, fpc=fpc),
                              calibrated_variance(u, w, strata, population, categories,
                                                  fpc=fpc))
