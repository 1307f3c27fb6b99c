"""Campaign statistics from counts and pair sums equal the row-based ones, field by field."""

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analysis import StratumPairSums, campaign_statistics, campaign_statistics_from_sums

LABELS = ("a", "b", "c", "d")


def _design(seed: int):
    """A random campaign: codes (items x respondents), strata, population, dimensions,
    overall item, with the awkward cases the stored sums must survive."""
    rng = np.random.default_rng(seed)
    n_strata = int(rng.integers(2, 5))
    sizes = rng.integers(2, 25, size=n_strata)
    sizes[int(rng.integers(n_strata))] = 1  # a stratum with one respondent
    n_items = int(rng.integers(3, 8))
    strata = np.repeat(np.arange(n_strata), sizes)
    probabilities = rng.dirichlet(np.ones(7))
    codes = rng.choice([1, 2, 3, 4, 5, 9, np.nan], p=probabilities,
                       size=(n_items, strata.size))
    codes[0, strata == 0] = 9  # item 0 has no valid answer in stratum 0
    codes[1, strata == 0] = np.nan
    single = (strata == n_strata - 1)
    codes[:, single] = np.where(rng.random((n_items, single.sum())) < 0.3, 9, 4)
    for j in range(n_items):  # every item needs a valid answer somewhere
        if not np.any(codes[j] <= 5):
            codes[j, -1] = rng.integers(1, 6)
    population = {LABELS[h]: float(size + rng.integers(0, 40)) for h, size in enumerate(sizes)}
    population[LABELS[0]] = float(sizes[0])  # population equal to respondents
    overall = int(rng.integers(n_items))
    scale = [j for j in range(n_items) if j != overall]
    rng.shuffle(scale)
    dimensions, start = {}, 0
    while start < len(scale):
        width = int(rng.integers(1, 4))
        dimensions[f"d{len(dimensions)}"] = sorted(scale[start:start + width])
        start += width
    return codes, np.array(LABELS)[strata], population, dimensions, overall


def _counts(codes, strata):
    """(items, strata, 7): codes 1..5, NA, missing, counted directly."""
    out = np.zeros((codes.shape[0], len(np.unique(strata)), 7), dtype=int)
    for h, label in enumerate(np.unique(strata)):
        block = codes[:, strata == label]
        for c in range(1, 6):
            out[:, h, c - 1] = (block == c).sum(axis=1)
        out[:, h, 5] = (block == 9).sum(axis=1)
        out[:, h, 6] = np.isnan(block).sum(axis=1)
    return out


def _pair_sums(codes, strata, scale_items):
    """Pair sums of the scale items per stratum (other rows NaN: the function must not
    read them)."""
    n_items, labels = codes.shape[0], np.unique(strata)
    arrays = [np.full((labels.size, n_items, n_items), np.nan) for _ in range(5)]
    for h, label in enumerate(labels):
        block = codes[np.ix_(scale_items, strata == label)]
        v = (block <= 5).astype(float)
        y = np.where(block <= 5, block, 0.0)
        s = (y >= 4).astype(float)
        cross = np.ix_(scale_items, scale_items)
        for array, value in zip(arrays, (v @ v.T, y @ v.T, y @ y.T, s @ v.T, s @ s.T),
                                strict=True):
            array[h][cross] = value
    return StratumPairSums(*arrays)


def _assert_same(got, want, path="stats"):
    if dataclasses.is_dataclass(want):
        assert type(got) is type(want), path
        for field in dataclasses.fields(want):
            _assert_same(getattr(got, field.name), getattr(want, field.name),
                         f"{path}.{field.name}")
    elif isinstance(want, tuple | list):
        assert len(got) == len(want), path
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{path}[{k}]")
    elif isinstance(want, float | np.floating):
        assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=path)
    else:
        assert got == want, path


def _both(seed):
    codes, strata, population, dimensions, overall = _design(seed)
    rows = campaign_statistics(codes, strata, population, dimensions, overall,
                               reliability=False, item_intervals=False, drivers=False)
    scale = [j for j in range(codes.shape[0]) if j != overall]
    sums = campaign_statistics_from_sums(
        _counts(codes, strata), _pair_sums(codes, strata, scale),
        np.unique(strata).tolist(), population, dimensions, overall)
    return rows, sums


@pytest.mark.parametrize("seed", range(60))
def test_every_field_equals_the_row_based_statistics(seed):
    rows, sums = _both(seed)
    _assert_same(sums, rows)


def test_the_designs_hold_the_awkward_cases():
    # The comparison above is only as strong as the designs: check they contain each case.
    seen = set()
    for seed in range(60):
        codes, strata, population, dimensions, _ = _design(seed)
        labels, r = np.unique(strata, return_counts=True)
        counts = _counts(codes, strata)
        valid = counts[..., :5].sum(axis=2)
        seen.add(("strata", labels.size))
        seen.update(("dimension width", len(v)) for v in dimensions.values())
        if np.any(r == 1):
            seen.add("one respondent")
        if np.any(valid == 0):
            seen.add("item without valid answer in a stratum")
        if any(population[lab] == n for lab, n in zip(labels.tolist(), r, strict=True)):
            seen.add("census stratum")
        if np.any((np.count_nonzero(counts[..., :5], axis=2) == 1) & (valid > 1)):
            seen.add("single code")
        if counts[..., 5].sum() and counts[..., 6].sum():
            seen.add("NA and missing")
    assert {"one respondent", "item without valid answer in a stratum", "census stratum",
            "single code", "NA and missing"} <= seen
    assert {("strata", k) for k in (2, 3, 4)} <= seen
    assert {("dimension width", k) for k in (1, 2, 3)} <= seen


def test_standard_errors_are_not_trivial():
    # Equal zeros would pass the comparison without testing the algebra.
    rows, sums = _both(3)
    assert sums.composite_se > 0
    assert any(d.index_se > 0 and len(d.items) > 1 for d in sums.dimensions)
    assert math.isclose(sums.composite_se, rows.composite_se, rel_tol=1e-12)


def test_strata_without_respondents_are_left_out():
    codes, strata, population, dimensions, overall = _design(5)
    scale = [j for j in range(codes.shape[0]) if j != overall]
    counts, pairs = _counts(codes, strata), _pair_sums(codes, strata, scale)
    labels = np.unique(strata).tolist()
    padded = StratumPairSums(*(np.insert(getattr(pairs, f.name), 1, 0.0, axis=0)
                               for f in dataclasses.fields(StratumPairSums)))
    sums = campaign_statistics_from_sums(np.insert(counts, 1, 0, axis=1), padded,
                                         [labels[0], "z", *labels[1:]],
                                         {**population, "z": 10.0}, dimensions, overall)
    rows = campaign_statistics(codes, strata, population, dimensions, overall,
                               reliability=False, item_intervals=False, drivers=False)
    _assert_same(sums, rows)


def test_from_upper_mirrors_pair_rows():
    codes, strata, population, dimensions, overall = _design(7)
    scale = [j for j in range(codes.shape[0]) if j != overall]
    full = _pair_sums(codes, strata, scale)
    upper = np.triu(np.ones(full.n.shape[1:], dtype=bool))
    def up(a):
        return np.where(upper, a, -1.0)  # below the diagonal: ignored
    mirrored = StratumPairSums.from_upper(
        up(full.n), up(full.sums), up(np.swapaxes(full.sums, 1, 2)), up(full.products),
        up(full.satisfied), up(np.swapaxes(full.satisfied, 1, 2)), up(full.satisfied_both))
    for f in dataclasses.fields(StratumPairSums):
        np.testing.assert_array_equal(getattr(mirrored, f.name), getattr(full, f.name))


def test_inconsistent_counts_are_refused():
    codes, strata, population, dimensions, overall = _design(2)
    scale = [j for j in range(codes.shape[0]) if j != overall]
    counts = _counts(codes, strata)
    counts[0, 0, 0] += 1
    with pytest.raises(ValueError, match="respondents differ"):
        campaign_statistics_from_sums(counts, _pair_sums(codes, strata, scale),
                                      np.unique(strata).tolist(), population, dimensions,
                                      overall)


def test_large_campaign_matches_exact_rational_variance():
    # At 30,000 responses the row-based sum of z² carries rounding of its own; the sums'
    # integer numerators keep the dimension rate's SE at the exact value of its formula.
    from collections import Counter
    from fractions import Fraction

    rng = np.random.default_rng(11)
    n = 30_000
    strata = np.array(list("abc"))[rng.integers(0, 3, n)]
    codes = rng.choice([1, 2, 3, 4, 5, 9, np.nan], p=[.01, .02, .07, .4, .45, .03, .02],
                       size=(4, n))
    population = {"a": 90_000, "b": 30_000, "c": 20_000}
    dimensions = {"x": [0, 1, 2]}
    sums = campaign_statistics_from_sums(_counts(codes, strata),
                                         _pair_sums(codes, strata, [0, 1, 2]),
                                         ["a", "b", "c"], population, dimensions, 3)
    variance, total = Fraction(0), sum(population.values())
    for label in "abc":
        block = codes[:3, strata == label]
        r, valid = block.shape[1], block <= 5
        satisfied = valid & (block >= 4)
        b = [Fraction(1, 3) * Fraction(population[label], total) * r / int(valid[j].sum())
             for j in range(3)]
        means = [Fraction(int(satisfied[j].sum()), int(valid[j].sum())) for j in range(3)]
        patterns = Counter(zip(*valid.tolist(), *satisfied.tolist(), strict=True))
        sum_z2 = sum(count * sum(b[j] * (key[3 + j] - means[j]) for j in range(3) if key[j])**2
                     for key, count in patterns.items())
        variance += (1 - Fraction(r, population[label])) * sum_z2 / ((r - 1) * r)
    assert_allclose(sums.dimensions[0].rate_se, math.sqrt(variance), rtol=4e-16)
