"""Mode effects from category counts per (item, stratum, mode, code) equal
item_mode_effects on the response matrix, as the scores document's mode_effects section
compares web with paper and web with interviews."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import item_mode_effects, item_mode_effects_from_counts

STORED_MODES = ["web_token", "web_open", "paper", "interview"]
# The section's reading of the stored modes: both web channels are "web".
SECTION_MODES = ["web", "web", "paper", "interview"]
CODES = [0, 1, 2, 3, 4, 5, 9]  # 0: no answer, as the category counts store it


def _first_seen(labels):
    distinct = list(dict.fromkeys(labels.tolist()))
    return distinct, np.array([distinct.index(v) for v in labels.tolist()])


def _random_survey(rng, n_items, n):
    codes = rng.integers(1, 6, size=(n_items, n)).astype(float)
    draw = rng.random(codes.shape)
    codes[draw < rng.uniform(0, 0.3)] = 9
    codes[rng.random(codes.shape) < rng.uniform(0, 0.3)] = np.nan
    # Strata of very different sizes; the smallest often lack a mode.
    strata = rng.choice(["g0", "g1", "g2", "g3", "g4"], size=n,
                        p=[0.55, 0.3, 0.1, 0.04, 0.01])
    stored = rng.choice(STORED_MODES, size=n, p=rng.dirichlet(np.ones(4)))
    return codes, strata, stored


def _category_counts(codes, strata, stored):
    """counts[item, stratum, stored mode, code] as the CategoryCount rows hold them."""
    labels, h = _first_seen(strata)
    m = np.array([STORED_MODES.index(v) for v in stored])
    slot = np.array([CODES.index(0 if np.isnan(c) else int(c)) for c in codes.ravel()]
                    ).reshape(codes.shape)
    counts = np.zeros((codes.shape[0], len(labels), len(STORED_MODES), len(CODES)), dtype=int)
    for j in range(codes.shape[0]):
        np.add.at(counts[j], (h, m, slot[j]), 1)
    return counts, labels


def _assert_effects_equal(from_counts, from_rows):
    assert len(from_counts) == len(from_rows)
    for item_c, item_r in zip(from_counts, from_rows, strict=True):
        assert len(item_c) == len(item_r)
        for c, r in zip(item_c, item_r, strict=True):
            assert (c.stratum, c.n_web, c.n_paper) == (r.stratum, r.n_web, r.n_paper)
            assert (c.mann_whitney is None) == (r.mann_whitney is None)
            assert (c.chi_square is None) == (r.chi_square is None)
            if r.mann_whitney is not None:
                mc, mr = c.mann_whitney, r.mann_whitney
                assert (mc.n_x, mc.n_y, mc.method) == (mr.n_x, mr.n_y, mr.method)
                assert_allclose([mc.u, mc.p_value, mc.rank_biserial],
                                [mr.u, mr.p_value, mr.rank_biserial], rtol=1e-12,
                                equal_nan=True)
            if r.chi_square is not None:
                cc, cr = c.chi_square, r.chi_square
                assert (cc.dof, cc.table, cc.method, cc.small_expected_cells, cc.flagged) == (
                    cr.dof, cr.table, cr.method, cr.small_expected_cells, cr.flagged)
                assert_allclose([cc.statistic, cc.p_value], [cr.statistic, cr.p_value],
                                rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("other", ["paper", "interview"])
@pytest.mark.parametrize("small_expected", ["merge", "fisher", "flag"])
def test_counts_equal_rows(seed, other, small_expected):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    codes, strata, stored = _random_survey(rng, 4, n)
    counts, labels = _category_counts(codes, strata, stored)
    section_modes = np.array([SECTION_MODES[STORED_MODES.index(v)] for v in stored])
    rows = item_mode_effects(codes, section_modes, strata, paper=other,
                             small_expected=small_expected)
    from_counts = item_mode_effects_from_counts(counts, labels, SECTION_MODES, CODES,
                                                paper=other, small_expected=small_expected)
    _assert_effects_equal(from_counts, rows)


def test_the_none_cases_and_the_third_mode():
    # g_small: web and interview only; g_web: web only; g_one: one category in all.
    strata = np.array(["g_small"] * 4 + ["g_web"] * 3 + ["g_one"] * 4)
    stored = np.array(["web_open", "interview", "interview", "web_token",
                       "web_token", "web_open", "web_token",
                       "web_token", "paper", "paper", "web_open"])
    codes = np.array([[3, 4, 5, 9, 2, 5, 1, 4, 4, 4, 4],
                      [np.nan, 2, 9, 1, 3, 3, np.nan, 9, 9, 4, np.nan]])
    counts, labels = _category_counts(codes, strata, stored)
    section_modes = np.array([SECTION_MODES[STORED_MODES.index(v)] for v in stored])
    seen = {}
    for other in ("paper", "interview"):
        rows = item_mode_effects(codes, section_modes, strata, paper=other)
        from_counts = item_mode_effects_from_counts(counts, labels, SECTION_MODES, CODES,
                                                    paper=other)
        _assert_effects_equal(from_counts, rows)
        seen[other] = from_counts
    paper_item0 = {e.stratum: e for e in seen["paper"][0]}
    assert paper_item0["g_small"].n_paper == 0 and paper_item0["g_small"].mann_whitney is None
    assert paper_item0["g_web"].n_paper == 0 and paper_item0["g_web"].chi_square is None
    one = paper_item0["g_one"]  # every answer a 4: a test of ranks, no chi-square
    assert (one.n_web, one.n_paper) == (2, 2)
    assert one.mann_whitney is not None and one.chi_square is None
    interview_item0 = {e.stratum: e for e in seen["interview"][0]}
    assert (interview_item0["g_small"].n_web, interview_item0["g_small"].n_paper) == (1, 2)
    assert interview_item0["g_one"].n_paper == 0  # paper left out of web vs interview
    # Item 1: the web answer of g_small is missing, so no test at all there.
    assert seen["interview"][1][0].n_web == 1 and seen["interview"][1][0].mann_whitney is not None
    assert seen["paper"][1][0].mann_whitney is None


def test_a_listed_stratum_without_counts_and_the_order_of_strata():
    counts = np.zeros((1, 2, 2, 6), dtype=int)
    counts[0, 1, 0, :5] = [0, 1, 2, 3, 4]
    counts[0, 1, 1, :5] = [4, 3, 2, 1, 0]
    effects = item_mode_effects_from_counts(counts, ["late", "early"], ["web", "paper"],
                                            [1, 2, 3, 4, 5, 9])[0]
    assert [e.stratum for e in effects] == ["late", "early"]
    assert (effects[0].n_web, effects[0].n_paper, effects[0].mann_whitney) == (0, 0, None)
    assert effects[1].mann_whitney.rank_biserial > 0.5


def test_bad_counts_are_refused():
    ok = np.zeros((1, 1, 2, 3), dtype=int)
    with pytest.raises(ValueError, match="label the axes"):
        item_mode_effects_from_counts(ok, ["a"], ["web"], [1, 2, 3])
    with pytest.raises(ValueError, match="items x strata"):
        item_mode_effects_from_counts(ok[0], ["a"], ["web", "paper"], [1, 2, 3])
    bad = ok.copy()
    bad[0, 0, 0, 2] = 1
    with pytest.raises(ValueError, match="codes must be"):
        item_mode_effects_from_counts(bad, ["a"], ["web", "paper"], [1, 2, 7])
    # An unknown code that counts nobody is harmless.
    item_mode_effects_from_counts(ok, ["a"], ["web", "paper"], [1, 2, 7])
    bad[0, 0, 0, 2] = -1
    with pytest.raises(ValueError, match=">= 0"):
        item_mode_effects_from_counts(bad, ["a"], ["web", "paper"], [1, 2, 3])
