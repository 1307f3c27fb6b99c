"""Construct validity (issue 18 item 3): one-factor loadings, CR, AVE, corrected item-total
correlations and the overall item's R², against R.

Data: ``data/validity/responses.csv`` (made by ``make_validity_data.py`` there, seeded): 300
respondents, dimensions service (4 items), fairness (3), information (2), payment (1) and
complaint (1 item answered by about 15 %), the overall item; 9 and blanks are missing.

Reference numbers: ``data/validity/validity.R`` (its output stored beside it as
``validity.out``; R 4.2.2, lavaan 0.6.14, psych 2.2.9): per dimension ``na.omit`` of its
items, lavaan ``cfa(std.lv = TRUE)`` ``standardizedSolution`` std.all loadings, CR and AVE
from them, ``psych::alpha`` ``item.stats$r.drop``; ``lm(overall ~ dimension scores)`` R².
Tolerance: 1e-4 for loadings, CR and AVE (lavaan's optimiser stops at a gradient tolerance;
the two fits agree to about 1e-6); 1e-9 for the closed-form item-total correlations and R².
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import construct_validity, dimension_validity, one_factor_ml, overall_r_squared

DATA = Path(__file__).parent / "data" / "validity"
DIMENSIONS = {"service": ["s1", "s2", "s3", "s4"], "fairness": ["f1", "f2", "f3"],
              "information": ["i1", "i2"], "payment": ["p1"], "complaint": ["c1"],
              "overall": ["overall"]}


def _r_reference() -> dict[str, np.ndarray]:
    out = {}
    for line in (DATA / "validity.out").read_text().splitlines():
        if not line.startswith("#"):
            name, *values = line.split()
            out[name] = np.array([float(v) for v in values])
    return out


@pytest.fixture(scope="module")
def result():
    with (DATA / "responses.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    codes = np.array([[float(v) if v else np.nan for v in row] for row in rows[1:]])
    return construct_validity(codes, rows[0], DIMENSIONS, "overall")


def test_loadings_cr_and_ave_equal_lavaan(result):
    ref = _r_reference()
    by_name = {d.name: d for d in result.dimensions} | {"all": result.scale}
    for name in ("service", "fairness", "all"):
        d = by_name[name]
        assert d.note is None
        assert d.n_used == ref[f"{name}_n"][0]
        assert_allclose(d.loadings, ref[f"{name}_loadings"], atol=1e-4)
        assert_allclose(d.composite_reliability, ref[f"{name}_cr"][0], atol=1e-4)
        assert_allclose(d.average_variance_extracted, ref[f"{name}_ave"][0], atol=1e-4)


def test_corrected_item_total_equals_psych_r_drop(result):
    ref = _r_reference()
    by_name = {d.name: d for d in result.dimensions} | {"all": result.scale}
    for name in ("service", "fairness", "information", "all"):
        assert_allclose(by_name[name].corrected_item_total, ref[f"{name}_r_drop"], rtol=1e-9)


def test_overall_r_squared_equals_lm(result):
    ref = _r_reference()
    o = result.overall
    assert o.n_used == ref["r2_n"][0]
    assert_allclose([o.r_squared, o.adjusted_r_squared], [ref["r2"][0], ref["adj_r2"][0]],
                    rtol=1e-9)
    # complaint is scored for about 15 %: left out, as the R script leaves it out
    assert o.dimensions == ("service", "fairness", "information", "payment")
    assert o.left_out == ("complaint",)
    assert "c1" not in result.scale.items


def test_three_items_match_the_closed_form():
    # A one-factor model of 3 items fits exactly: λ1 = √(r12 r13 / r23) (Lawley & Maxwell).
    r = np.array([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    m = one_factor_ml(r)
    assert_allclose(m.loadings, [np.sqrt(.5 * .4 / .3), np.sqrt(.5 * .3 / .4),
                                 np.sqrt(.4 * .3 / .5)], atol=1e-7)
    assert m.converged and not m.heywood


def test_heywood_case_is_flagged():
    # λ1² = r12 r13 / r23 = 1.28 > 1: the fit stops at the uniqueness bound and says so.
    r = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    assert one_factor_ml(r).heywood
    z = np.random.default_rng(1).standard_normal((400, 3))
    z = (z - z.mean(axis=0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    d = dimension_validity(z @ np.linalg.cholesky(r).T, na_code=None)  # sample correlation r
    assert d.note == "Heywood case: a uniqueness reached its lower bound (0.005)"
    assert d.reason == "heywood" and d.composite_reliability is not None


def test_one_item_dimension_is_undefined():
    d = dimension_validity([[5], [4], [3], [9]], name="payment", items=["p1"])
    assert (d.loadings, d.composite_reliability, d.average_variance_extracted,
            d.corrected_item_total) == (None, None, None, None)
    assert d.n_used == 3
    assert d.note == "one item: CR, AVE and item-total correlations are undefined"
    assert d.reason == "one_item"


def test_two_item_dimension_has_item_total_only():
    d = dimension_validity([[5, 4], [4, 4], [3, 2], [2, 1], [9, 5]])
    assert d.composite_reliability is None and d.loadings is None
    assert "not identified" in d.note and d.reason == "two_items"
    r = np.corrcoef([5, 4, 3, 2], [4, 4, 2, 1])[0, 1]
    assert_allclose(d.corrected_item_total, [r, r], rtol=1e-12)
    assert d.n_used == 4


def test_constant_item_is_named():
    d = dimension_validity([[5, 4, 4], [4, 4, 3], [3, 4, 2], [2, 4, 1]], items=["a", "b", "c"])
    assert d.note == "no variance in b"
    assert d.composite_reliability is None and d.corrected_item_total is None


def test_all_missing_dimension():
    d = dimension_validity([[9, np.nan, 9], [np.nan, 9, 9]], items=["a", "b", "c"])
    assert d.n_used == 0
    assert d.note == "0 complete rows: too few for 3 items"


def test_all_missing_overall_item():
    v = construct_validity([[5, 4, 9], [4, 3, 9], [3, 3, np.nan]], ["a", "b", "o"],
                 {"d1": ["a"], "d2": ["b"], "all": ["o"]}, "o")
    assert v.overall.r_squared is None and v.overall.n_used == 0
    assert v.overall.note == "0 complete rows: too few for 2 dimensions"


def test_constant_overall_item_and_collinear_scores():
    assert overall_r_squared([[1], [2], [3], [4]], [3, 3, 3, 3]).note == (
        "the overall item has no variance")
    collinear = overall_r_squared([[1, 2], [2, 4], [3, 6], [4, 8], [5, 10]], [1, 3, 2, 5, 4])
    assert collinear.r_squared is None and "collinear" in collinear.note
