"""Back-check statistics against hand computations (analysis.backchecks)."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose
from scipy.stats import binomtest

from analysis import backcheck_draw, backcheck_sample_size, backcheck_summary, item_discrepant


@pytest.mark.parametrize(("completed", "share", "minimum", "expected"), [
    (0, 0.1, 3, 0), (2, 0.1, 3, 2), (30, 0.1, 3, 3),  # 0.1 x 30 is 3.0000000000000004
    (31, 0.1, 3, 4), (100, 0.1, 3, 10), (100, 0.25, 0, 25), (7, 1.0, 3, 7), (10, 0.1, 0, 1),
])
def test_sample_size_by_hand(completed, share, minimum, expected):
    assert backcheck_sample_size(completed, share, minimum) == expected


def test_the_draw_is_reproducible_and_one_workers_draw_ignores_the_others():
    forms = {"w1": [f"H{i:03d}" for i in range(40)], "w2": [f"K{i:03d}" for i in range(12)]}
    draw = backcheck_draw(forms, seed=42, share=0.1, minimum=3)
    assert draw == backcheck_draw({k: list(reversed(v)) for k, v in forms.items()},
                                  seed=42, share=0.1, minimum=3)  # input order is irrelevant
    assert [len(draw["w1"]), len(draw["w2"])] == [4, 3]
    assert set(draw["w1"]) <= set(forms["w1"]) and draw["w1"] == sorted(draw["w1"])
    # Another worker's forms changing does not move w1's draw; another seed does.
    assert backcheck_draw({"w1": forms["w1"]}, seed=42, share=0.1, minimum=3)["w1"] == \
        draw["w1"]
    seeds = {tuple(backcheck_draw(forms, seed=s, share=0.1, minimum=3)["w1"])
             for s in range(20)}
    assert len(seeds) > 15


@pytest.mark.parametrize(("kind", "original", "recheck", "expected"), [
    ("rating", "5", "4", False), ("rating", "4", "2", True), ("rating", "1", "5", True),
    ("rating", "9", "5", None), ("rating", "5", "9", None), ("rating", "5", "", None),
    ("single", "1", "2", True), ("single", "2", "2", False), ("integer", "4", "4", False),
    ("integer", "4", "5", True), ("visited", None, "1", False), ("visited", None, "2", True),
    ("visited", None, "9", None),
])
def test_item_comparison(kind, original, recheck, expected):
    assert item_discrepant(kind, original, recheck) is expected


def test_discrepancy_rates_against_a_hand_computation():
    """w1: 1 of 10 checked forms discrepant; w2: 4 of 5; w3: drawn but none reached.

    Wilson 95 % by hand, z = 1.959964, bounds (2np + z² ∓ z·sqrt(4npq + z²)) / (2(n + z²)):
    1/10 -> (0.017876, 0.404150); 4/5 -> (0.375535, 0.963776); pooled 5/15 ->
    (0.151763, 0.582865); scipy's binomtest(k, n).proportion_ci(method="wilson") agrees.
    """
    s = backcheck_summary({"w1": (100, 10, 10, 1), "w2": (30, 5, 5, 4), "w3": (3, 3, 0, 0)},
                          threshold=0.10)
    w1, w2, w3 = s.workers
    assert_allclose([w1.discrepancy.estimate, w1.discrepancy.low, w1.discrepancy.high],
                    [0.1, 0.017876, 0.404150], atol=1e-6)
    assert_allclose([w2.discrepancy.estimate, w2.discrepancy.low, w2.discrepancy.high],
                    [0.8, 0.375535, 0.963776], atol=1e-6)
    assert_allclose([s.discrepancy.estimate, s.discrepancy.low, s.discrepancy.high],
                    [1 / 3, 0.151763, 0.582865], atol=1e-6)
    for k, n, worker in ((1, 10, w1), (4, 5, w2)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert_allclose([worker.discrepancy.low, worker.discrepancy.high], [ci.low, ci.high],
                        rtol=1e-9)
    assert_allclose([w1.backcheck_rate, w2.backcheck_rate, w3.backcheck_rate],
                    [0.10, 5 / 30, 0.0])
    assert (w1.flagged, w2.flagged, w3.flagged) == (False, True, False)
    assert w3.discrepancy is None and [w.worker for w in s.flagged] == ["w2"]
    assert (s.completed, s.drawn, s.checked, s.discrepant) == (133, 18, 15, 5)
    # Lower bound 0.3755 > 0.3 flags w2; a threshold of 0.4 does not.
    assert not backcheck_summary({"w2": (30, 5, 5, 4)}, threshold=0.4).workers[0].flagged


def test_inconsistent_counts_are_refused():
    with pytest.raises(ValueError, match="discrepant <= checked"):
        backcheck_summary({"w": (3, 3, 1, 2)})
    with pytest.raises(ValueError, match="threshold"):
        backcheck_summary({}, threshold=1.5)
