"""Item-pair sums (issue 23 item 4's cross-product sums): a region's alpha per dimension from
the campaigns' pooled per-cell sums equals ``analysis.cronbach_alpha`` (pairwise) on all the
region's counted responses; the refresh keeps the sums and ``counts check`` compares them.

Independent path: each campaign's counted responses loaded row by row
(counted_data.load_counted: the full items × respondents matrix, 9 and no answer made NaN),
stacked over the region's campaigns per dimension (an item a campaign lacks: NaN).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import update

import analysis
from survey_app.models import PairSum
from survey_app.services import (
    category_counts,
    pair_sums,
    rollup_counts,
    rollups,
    scores,
    units,
)
from survey_app.services.counted_data import load_counted
from survey_app.services.score_filters import NA_CODE
from tests.services.test_category_counts import CITY, _region, _two_projects


def _scale(dimensions) -> list[str]:
    out: list[str] = []
    for items in dimensions.values():
        out += [item for item in items if item not in out]
    return out


def _reference(under, session, dimensions=None) -> dict[str, tuple[list[str], object]]:
    """dimension ("all": every item but the overall one) -> (items, cronbach_alpha on the
    stacked rows) of the region (of ``dimensions`` if given)."""
    datas = [load_counted(campaign, session=session) for campaign, _u in under]
    given = dimensions is not None
    dimensions = dict(dimensions or {})
    for data in [] if given else datas:
        for name, items in {"all": _scale(data.dimensions), **data.dimensions}.items():
            known = dimensions.setdefault(name, [])
            known += [item for item in items if item not in known]
    out = {}
    for name, items in dimensions.items():
        blocks = []
        for data in datas:
            codes = np.full((len(items), data.codes.shape[1]), np.nan)
            for j, item in enumerate(items):
                if item in _scale(data.dimensions):
                    codes[j] = data.codes[data.item_ids.index(item)]
            blocks.append(codes.T)
        y = np.vstack(blocks)
        y[y == NA_CODE] = np.nan
        out[name] = (items, analysis.cronbach_alpha(y, missing="pairwise")
                     if len(items) >= 2 else None)
    return out


def _assert_equal(under, session) -> int:
    strata = rollup_counts.region_strata(under, session=session)
    reference = _reference(under, session)
    dimensions = {"all": pair_sums.scale(strata.dimensions), **strata.dimensions}
    assert dimensions == {name: items for name, (items, _a) in reference.items()}
    compared = 0
    for name, (items, want) in reference.items():
        got = pair_sums.dimension_alpha(items, strata.pairs)
        if want is None or not np.isfinite(want.alpha):
            assert got is None
            continue
        assert_allclose([got.alpha, got.standardized_alpha],
                        [want.alpha, want.standardized_alpha], rtol=1e-12)
        compared += 1
    return compared


@pytest.mark.demo_data
def test_the_demo_city_alpha_from_pair_sums_equals_the_full_computation(app, session):
    city = units.unit_by_code(CITY, session=session)
    under = units.campaigns_under(city, 2021, session=session)
    assert category_counts.pending([c.id for c, _u in under], session=session)
    assert _assert_equal(under, session) >= 1  # recomputed in memory (pending changes)
    category_counts.refresh([c for c, _u in under], session=session)
    assert _assert_equal(under, session) >= 1  # from the stored rows
    assert category_counts.check([c for c, _u in under], session=session).ok
    doc = rollups.rollup_document(city, 2021, session=session)
    reference = _reference(under, session)
    assert [r.dimension for r in doc.reliability] == list(reference)
    for row in doc.reliability:
        want = reference[row.dimension][1]
        assert row.alpha == (round(want.alpha, 4) if want and np.isfinite(want.alpha)
                             else None)
    assert doc.reliability[0].dimension == "all" and doc.reliability[0].alpha is not None
    # A county's roll-up: its campaign's own scores document's alpha (same rounding).
    heshan = units.unit_by_code("430903", session=session)
    campaign = units.campaigns_under(heshan, 2021, session=session)[0][0]
    own = scores.scores_document(campaign, session=session).reliability
    county = rollups.rollup_document(heshan, 2021, session=session).reliability[0]
    assert sorted(county.items) == sorted(own.items)
    assert county.alpha == own.pairwise.alpha


def test_a_constructed_region_and_a_tampered_pair_sum(app, session, runner):
    made = _region(session)
    under = units.campaigns_under(units.unit_by_code(CITY, session=session), 2021,
                                  session=session)
    category_counts.refresh(made, session=session)
    # One rating item has no scale answer in this region: "all" is undefined on both
    # sides (NaN covariances); without that item, defined and equal.
    assert _assert_equal(under, session) == 0
    strata = rollup_counts.region_strata(under, session=session)
    answered = [item for item in pair_sums.scale(strata.dimensions)
                if (item, item) in strata.pairs]
    assert len(answered) == 8
    (_items, want), = _reference(under, session, {"answered": answered}).values()
    got = pair_sums.dimension_alpha(answered, strata.pairs)
    assert_allclose([got.alpha, got.standardized_alpha],
                    [want.alpha, want.standardized_alpha], rtol=1e-12)
    campaign = made[0]
    assert pair_sums.stored(campaign.id, session=session)
    assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
    session.execute(update(PairSum).where(PairSum.campaign_id == campaign.id)
                    .values(sum_ab=PairSum.sum_ab + 1))
    result = runner.invoke(args=["counts", "check", campaign.slug])
    assert result.exit_code == 1 and "sum_ab" in result.output
    assert runner.invoke(args=["counts", "rebuild", campaign.slug]).exit_code == 0
    assert runner.invoke(args=["counts", "check"]).exit_code == 0


def test_a_campaigns_pooled_sums_add_its_projects_up(app, session):
    """The roll-up's read sums over the projects: the pooled sums are the per-project rows
    added up, and their alpha is the campaign's pairwise alpha on its rows."""
    campaign, _projects = _two_projects(session)
    category_counts.refresh([campaign], session=session)
    stored = pair_sums.stored(campaign.id, session=session)
    assert len({key[3] for key in stored}) == 3
    added: dict = {}
    pair_sums.add_cells(added, stored)
    pooled = pair_sums.pooled([campaign.id], session=session)
    assert pooled == added
    data = load_counted(campaign, session=session)
    # The complaint item is asked only of those who complained: none here.
    items = [item for item in pair_sums.scale(data.dimensions) if (item, item) in pooled]
    assert len(items) == len(pair_sums.scale(data.dimensions)) - 1
    y = np.array([data.codes[data.item_ids.index(item)] for item in items]).T
    y[y == NA_CODE] = np.nan
    want = analysis.cronbach_alpha(y, missing="pairwise")
    got = pair_sums.dimension_alpha(items, pooled)
    assert_allclose([got.alpha, got.standardized_alpha],
                    [want.alpha, want.standardized_alpha], rtol=1e-12)
    for item in items:
        answered = data.codes[data.item_ids.index(item)]
        satisfied = int(((answered >= 4) & (answered <= 5)).sum())
        assert pooled[(item, item)][6] == pooled[(item, item)][8] == satisfied > 0
