"""Per-campaign respondent-level sums (issue 23 item 4): each family equals a recomputation
by hand, response by response in plain Python, from a random decoded matrix with
not-applicable and missing answers; the row sets are the ones the analysis chooses
(analysis.construct_validity's items, dimensions and n); the sums give the analysis' own
figures (listwise alpha, dimension scores); the refresh stores them, their snapshot is the
scores document's, and ``counts check`` reports a tampered row.
"""

from __future__ import annotations

import hashlib
import inspect
import random
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import delete, update

import analysis
from analysis.campaign import dimension_scores
from survey_app.models import CountSnapshot, DriverCount, ListwiseSum, ScaleCount
from survey_app.services import (
    campaigns,
    category_counts,
    demo,
    pair_sums,
    respondent_sums,
    scores,
)
from survey_app.services.counted_data import CountedData, counted_snapshot, load_counted
from survey_app.services.score_filters import NA_CODE
from tests.factories import make_campaign
from tests.services.test_category_counts import _region

ITEMS = ["a1", "a2", "a3", "b1", "b2", "c1", "d1", "d2", "overall"]
DIMENSIONS = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2"], "c": ["c1"], "d": ["d1", "d2"]}
#: Per item: share not applicable, share without an answer. c1 (mostly 9) and d2 (mostly
#: unanswered) fall below half of the responses: out of "valid:all", and c and d out of
#: "model".
GAPS = {"a1": (0.05, 0.05), "a2": (0.1, 0.1), "a3": (0.0, 0.15), "b1": (0.1, 0.0),
        "b2": (0.05, 0.1), "c1": (0.6, 0.0), "d1": (0.0, 0.2), "d2": (0.2, 0.45),
        "overall": (0.05, 0.05)}


def _matrix(n: int, seed: int) -> np.ndarray:
    """items × respondents: codes 1..5, 9 not applicable, NaN no answer."""
    rng = np.random.default_rng(seed)
    codes = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], p=[0.05, 0.1, 0.2, 0.35, 0.3],
                       size=(len(ITEMS), n))
    for j, item in enumerate(ITEMS):
        na, missing = GAPS[item]
        draw = rng.random(n)
        codes[j, draw < na] = NA_CODE
        codes[j, (draw >= na) & (draw < na + missing)] = np.nan
    return codes


def _data(codes: np.ndarray, dimensions=DIMENSIONS) -> CountedData:
    n = codes.shape[1]
    ids = list(range(101, 101 + n))
    lines = [f"{i}:{hashlib.sha256(str(i).encode()).hexdigest()}" for i in ids]
    return CountedData(None, {}, list(ITEMS), "overall", dimensions, {}, response_ids=ids,
                       snapshot_lines=lines, codes=codes)


def _scale_answer(value) -> bool:
    return value in (1.0, 2.0, 3.0, 4.0, 5.0)


def _reference_sets(data: CountedData) -> dict[str, list[str]]:
    """The row sets as the analysis makes them: construct_validity's all-items model and
    regression, with its n per set."""
    v = analysis.construct_validity(data.codes.T, data.item_ids, data.dimensions,
                                    data.overall_item, na_code=NA_CODE)
    scale = pair_sums.scale(data.dimensions)
    sets = {"scale": (scale, None)}
    sets.update({"dim:" + d.name: (list(d.items), d.n_used) for d in v.dimensions
                 if len(d.items) >= 2})
    sets["valid:all"] = (list(v.scale.items), v.scale.n_used)
    sets["model"] = ([data.overall_item]
                     + [i for d in v.overall.dimensions for i in data.dimensions[d]],
                     v.overall.n_used)
    return sets


def _by_hand(data: CountedData, sets: dict[str, list[str]]) -> respondent_sums.RespondentSums:
    """Each family response by response."""
    answers = [dict(zip(data.item_ids, data.codes[:, r].tolist(), strict=True))
               for r in range(data.codes.shape[1])]
    scale = pair_sums.scale(data.dimensions)
    usable = Counter(sum(_scale_answer(a[i]) for i in scale) for a in answers)
    listwise = {}
    for name, items in sets.items():
        items = sorted(set(items))
        rows = [a for a in answers if all(_scale_answer(a[i]) for i in items)]
        listwise[(name, "", "")] = (len(rows), 0, 0, 0)
        for j, first in enumerate(items):
            for second in items[j:]:
                listwise[(name, first, second)] = (
                    len(rows), sum(int(a[first]) for a in rows),
                    sum(int(a[second]) for a in rows),
                    sum(int(a[first]) * int(a[second]) for a in rows))
    drivers: Counter = Counter()
    for d, items in data.dimensions.items():
        for a in answers:
            given = [int(a[i]) for i in items if _scale_answer(a[i])]
            if given and _scale_answer(a[data.overall_item]):
                drivers[(d, sum(given), len(given), int(a[data.overall_item]))] += 1
    snapshot = hashlib.sha256("\n".join(sorted(data.snapshot_lines)).encode()).hexdigest()
    return respondent_sums.RespondentSums(snapshot, len(answers), dict(usable), listwise,
                                          dict(drivers))


def test_the_share_is_construct_validitys_default():
    default = inspect.signature(analysis.construct_validity).parameters["min_answered_share"]
    assert default.default == respondent_sums.MIN_ANSWERED_SHARE


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_family_equals_the_recomputation_by_hand(seed):
    data = _data(_matrix(400, seed))
    reference = _reference_sets(data)
    sets = respondent_sums.row_sets(data)
    assert sets == {name: items for name, (items, _n) in reference.items()}
    assert "c1" not in sets["valid:all"] and "d2" not in sets["valid:all"]
    assert sets["model"] == ["overall", "a1", "a2", "a3", "b1", "b2"]
    got = respondent_sums.of_data(data)
    assert got == _by_hand(data, sets)
    for name, (_items, n_used) in reference.items():
        if n_used is not None:
            assert got.listwise[(name, "", "")][0] == n_used, name
    # Listwise alpha over the scale from the sums is the analysis' on the rows.
    y = data.codes[[ITEMS.index(i) for i in sets["scale"]]].T.copy()
    y[y == NA_CODE] = np.nan
    want = analysis.cronbach_alpha(y, missing="listwise")
    assert got.listwise[("scale", "", "")][0] == want.n_used
    assert got.scale_counts[len(sets["scale"])] == want.n_used
    pairs = {}
    for (name, a, b), (n, sum_a, sum_b, sum_ab) in got.listwise.items():
        if name == "scale" and a:
            pairs[(a, b)] = (n, sum_a, sum_b, sum_ab, got.listwise[(name, a, a)][3],
                             got.listwise[(name, b, b)][3])
    pooled = analysis.alpha_from_sums(*pair_sums.matrices(sets["scale"], pairs))
    assert_allclose([pooled.alpha, pooled.standardized_alpha],
                    [want.alpha, want.standardized_alpha], rtol=1e-12)


def test_driver_counts_give_the_dimension_scores_with_the_overall_answer():
    data = _data(_matrix(300, 7))
    got = respondent_sums.of_data(data).drivers
    valid = np.where(data.valid_answers, data.codes, np.nan)
    composite = analysis.composite_index(
        [0.0] * len(ITEMS), {d: [ITEMS.index(i) for i in its] for d, its in DIMENSIONS.items()})
    scores_ = dimension_scores(valid, composite)
    overall = valid[ITEMS.index("overall")]
    for k, d in enumerate(DIMENSIONS):
        used = ~np.isnan(scores_[:, k]) & ~np.isnan(overall)
        want = Counter(zip(scores_[used, k].tolist(), overall[used].tolist(), strict=True))
        expanded = Counter()
        for (dimension, total, count, code), n in got.items():
            if dimension == d:
                expanded[(total / count, float(code))] += n
        assert expanded == want, d


def test_a_dimension_holding_the_overall_item_is_no_dimension_of_the_validity_sets():
    dimensions = {**DIMENSIONS, "e": ["overall", "d1"]}
    data = _data(_matrix(200, 4), dimensions)
    sets = respondent_sums.row_sets(data)
    assert "dim:e" not in sets
    reference = _reference_sets(data)
    for name in ("valid:all", "model"):
        assert sets[name] == reference[name][0]
    assert respondent_sums.of_data(data) == _by_hand(data, sets)


def test_no_responses():
    data = _data(np.empty((len(ITEMS), 0)))
    got = respondent_sums.of_data(data)
    assert got.responses == 0 and got.scale_counts == {} and got.drivers == {}
    assert respondent_sums.row_sets(data)["valid:all"] == []
    assert respondent_sums.row_sets(data)["model"] == ["overall"]
    assert got.listwise[("valid:all", "", "")] == (0, 0, 0, 0)
    assert got.listwise[("dim:a", "a1", "a2")] == (0, 0, 0, 0)


def _assert_stored_as_computed(campaign, session) -> respondent_sums.RespondentSums:
    data = load_counted(campaign, session=session)
    stored = respondent_sums.stored(campaign.id, session=session)
    assert stored == respondent_sums.of_data(data)
    assert stored == _by_hand(data, respondent_sums.row_sets(data))
    assert stored.snapshot == counted_snapshot(campaign, session=session)
    assert stored.responses == len(data.response_ids)
    return stored


def test_the_refresh_stores_them_and_the_check_reports_a_tampered_row(app, session, runner):
    made = _region(session)
    category_counts.refresh(made, session=session)
    for campaign in made:
        _assert_stored_as_computed(campaign, session)
    # 南县 answered the overall item only: no scale answer, no driver, only "model" counts.
    overall_only = respondent_sums.stored(made[2].id, session=session)
    assert overall_only.scale_counts == {0: 6} and overall_only.drivers == {}
    assert overall_only.listwise[("valid:all", "", "")] == (6, 0, 0, 0)
    campaign = made[0]
    stored = _assert_stored_as_computed(campaign, session)
    assert stored.snapshot == scores.scores_document(campaign, session=session).snapshot
    assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
    tampered = [
        (update(ListwiseSum).where(ListwiseSum.campaign_id == campaign.id,
                                   ListwiseSum.row_set == "model", ListwiseSum.item_a != "")
         .values(sum_ab=ListwiseSum.sum_ab + 1), "listwise model pair"),
        (update(ScaleCount).where(ScaleCount.campaign_id == campaign.id)
         .values(n=ScaleCount.n + 1), "usable scale items"),
        (delete(DriverCount).where(DriverCount.campaign_id == campaign.id), "driver "),
        (update(CountSnapshot).where(CountSnapshot.campaign_id == campaign.id)
         .values(snapshot="0" * 64), "respondent sums snapshot"),
    ]
    for statement, named in tampered:
        session.execute(statement)
        result = runner.invoke(args=["counts", "check", campaign.slug])
        assert result.exit_code == 1 and named in result.output, result.output
        assert runner.invoke(args=["counts", "rebuild", campaign.slug]).exit_code == 0
        assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
    # A response more: the refresh follows it.
    from tests.perf.test_score_cache import _respond

    _respond(session, campaign, random.Random(3))
    session.flush()
    category_counts.refresh([campaign], session=session)
    assert _assert_stored_as_computed(campaign, session).responses == stored.responses + 1


def test_a_campaign_without_scores_stores_none(app, session):
    campaign = make_campaign(session)
    session.flush()
    category_counts.refresh([campaign], session=session, force=True)
    assert respondent_sums.stored(campaign.id, session=session) is None
    assert category_counts.check([campaign], session=session).ok
    respondent_sums.replace(campaign.id, respondent_sums.of_data(_data(_matrix(5, 1))),
                            session=session)
    result = category_counts.check([campaign], session=session)
    assert [d[1] for d in result.differences] == ["respondent sums (snapshot)"]


@pytest.mark.demo_data
def test_the_demo_campaign_after_a_refresh(app, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    assert respondent_sums.stored(campaign.id, session=session) is None  # pending
    category_counts.refresh([campaign], session=session)
    stored = _assert_stored_as_computed(campaign, session)
    assert stored.snapshot == scores.scores_document(campaign, session=session).snapshot
    assert stored.responses > 500 and len(stored.scale_counts) > 1 and stored.drivers
    assert category_counts.check([campaign], session=session).ok
