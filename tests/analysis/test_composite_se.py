"""The composite index's SE when a household group has no valid answer to an item
(issue 18): each item enters the linearisation with its own group weights.

Data: ``data/composite_se/responses.csv`` (made by ``make_composite_se_data.py`` there,
seeded): groups a (N 600, 40 respondents), b (N 2500, 60) and c (N 150, 12); group c has
no valid answer to q3, so q3's pooled estimate weights a and b only. Composite = mean of the
dimension indices {housing: q1, q2; service: q3, q4}.

Reference numbers: R 4.2.2, survey 4.1.1, ``data/composite_se/composite_se.R`` (output
stored beside it in ``composite_se.out``):
    composite 71.6224570898
    linearised_se 1.5723250651   svytotal + svycontrast (delta method), strata, fpc = N_h
    jackknife_se 1.5840930243    as.svrepdesign(type = "JKn") + withReplicates
The SE that weighted every item by the cell-wide N_h/N (before issue 18) was 1.54173.
"""

import csv
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose

from analysis import campaign_statistics

DATA = Path(__file__).parent / "data" / "composite_se"


def _reference_case():
    with (DATA / "responses.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = np.array([[float(r[k]) for r in rows] for k in ("q1", "q2", "q3", "q4", "overall")])
    strata = [r["stratum"] for r in rows]
    populations = {r["stratum"]: int(r["N"]) for r in rows}
    return campaign_statistics(codes, strata, populations,
                               {"housing": [0, 1], "service": [2, 3]}, 4,
                               item_intervals=False, drivers=False, reliability=False)


def test_the_reference_case_has_a_group_without_valid_answers_to_an_item():
    s = _reference_case()
    assert [st.label for st in s.items[2].index.strata] == ["a", "b"]
    assert [st.label for st in s.items[0].index.strata] == ["a", "b", "c"]


def test_composite_se_equals_r_survey_linearisation():
    s = _reference_case()
    assert_allclose(s.composite.overall, 71.6224570898, rtol=1e-10)
    assert_allclose(s.composite_se, 1.5723250651, rtol=1e-9)


def test_composite_se_close_to_r_stratified_jackknife():
    # A different variance method (JKn with the FPC): agreement to a few per cent, and
    # clearly away from the cell-wide-weights SE 1.54173 that the fix replaced.
    s = _reference_case()
    assert_allclose(s.composite_se, 1.5840930243, rtol=0.01)
    assert abs(s.composite_se - 1.54173) > 0.02
