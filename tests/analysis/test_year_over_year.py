"""Year-over-year change (issue 18 item 2) against R.

Reference: ``tests/analysis/data/year_over_year/year_over_year.R`` (R 4.2.2, base R
``qnorm``/``pnorm``) computed the change, its SE, 95 % interval and P(true change >= 0) of
every compared figure of the demo (heshan-2021 against heshan-2020) from the stored per-year
estimates and SEs in ``estimates.csv``; its output is ``year_over_year.out``.
"""

import csv
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from analysis import year_over_year_change

DATA = Path(__file__).parent / "data" / "year_over_year"


def _rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_changes_equal_r():
    inputs, expected = _rows("estimates.csv"), _rows("year_over_year.out")
    assert len(inputs) == len(expected) == 23
    for row, ref in zip(inputs, expected, strict=True):
        assert (row["group"], row["figure"], row["dimension"]) == (
            ref["group"], ref["figure"], ref["dimension"])
        c = year_over_year_change(float(row["current"]), float(row["current_se"]),
                                  float(row["previous"]), float(row["previous_se"]))
        assert_allclose([c.difference, c.se, c.interval.low, c.interval.high,
                         c.probability_not_lower],
                        [float(ref[k]) for k in ("change", "se", "low", "high",
                                                 "p_not_lower")], rtol=1e-12, atol=1e-15)
        assert c.not_lower is (float(ref["change"]) >= 0)


def test_hand_computed_example():
    """0.86 (SE 0.02) against 0.82 (SE 0.015): SE = sqrt(0.0004 + 0.000225) = 0.025,
    interval 0.04 -/+ 1.959964 x 0.025, P = Phi(1.6) = 0.945201."""
    c = year_over_year_change(0.86, 0.02, 0.82, 0.015)
    assert_allclose([c.difference, c.se, c.interval.low, c.interval.high,
                     c.probability_not_lower],
                    [0.04, 0.025, 0.04 - 1.959963984540054 * 0.025,
                     0.04 + 1.959963984540054 * 0.025, 0.945200708300442], rtol=1e-12)
    assert "SE_now^2 + SE_prev^2" in c.convention


@pytest.mark.parametrize(("args", "comparable"), [
    ((0.9, 0.01, 0.8, 0.01), False),     # wording changed: 口径变化
    ((0.9, None, 0.8, 0.01), True),      # no SE this year
    ((None, None, 0.8, 0.01), True),     # no estimate this year
])
def test_not_compared(args, comparable):
    c = year_over_year_change(*args, comparable=comparable)
    assert c.difference is c.se is c.interval is c.probability_not_lower is c.not_lower is None
    assert c.comparable is comparable


@pytest.mark.parametrize(("now", "before", "probability"), [(0.9, 0.8, 1.0), (0.8, 0.9, 0.0),
                                                          (0.8, 0.8, 1.0)])
def test_zero_standard_errors(now, before, probability):
    c = year_over_year_change(now, 0.0, before, 0.0)
    assert c.probability_not_lower == probability and c.se == 0.0
