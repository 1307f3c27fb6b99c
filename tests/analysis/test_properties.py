"""Property-based tests (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis import (
    bootstrap_counts_interval,
    campaign_statistics,
    design_weights,
    item_summary,
    wilson_interval,
)

codes_strategy = st.lists(st.sampled_from([1, 2, 3, 4, 5, 9, None]), min_size=1, max_size=60)


@given(codes_strategy)
def test_rates_and_indices_in_range(codes):
    s = item_summary(codes)
    if s.n_valid == 0:
        assert np.isnan(s.rate) and np.isnan(s.index)
        return
    assert 0.0 <= s.rate <= 1.0
    assert 0.0 <= s.index <= 100.0
    assert 20.0 <= s.score <= 100.0
    assert 0.0 <= s.na_share <= 1.0
    assert_allclose(s.score, 20 * s.mean)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]), st.booleans())
def test_wilson_contains_estimate(kn, confidence, correction):
    k, n = kn
    ci = wilson_interval(k, n, confidence, correction)
    assert 0.0 <= ci.low <= k / n <= ci.high <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=5, max_size=5), min_size=1, max_size=3),
       st.sampled_from(["bca", "percentile"]))
def test_count_bootstrap_interval_contains_estimate(counts, method):
    counts = [c if sum(c) > 1 else [1, 0, 0, 0, 1] for c in counts]
    ci = bootstrap_counts_interval(counts, method=method, n_resamples=300,
                                   stratum_weights=[1.0] * len(counts))
    assert ci.low <= ci.estimate + 1e-12 and ci.estimate <= ci.high + 1e-12


@given(st.dictionaries(st.text(min_size=1, max_size=3),
                       st.integers(1, 50).flatmap(lambda r: st.tuples(st.just(r),
                                                                      st.integers(r, 10_000))),
                       min_size=1, max_size=5))
def test_design_weights_sum_to_population(strata):
    respondents = {h: r for h, (r, _) in strata.items()}
    population = {h: n for h, (_, n) in strata.items()}
    w = design_weights(respondents, population)
    assert_allclose(sum(respondents[h] * w[h] for h in w), sum(population.values()))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_permuting_respondents_changes_nothing(seed):
    rng = np.random.default_rng(seed)
    n = 120
    codes = rng.choice([1, 2, 3, 4, 5, 9], size=(5, n)).astype(float)
    codes[rng.random((5, n)) < 0.03] = np.nan
    strata = rng.choice(["a", "b"], size=n)
    strata[:2] = ["a", "b"]
    perm = rng.permutation(n)
    args = ({"a": 500, "b": 900}, {"d1": [0, 1], "d2": [2, 3]}, 4)
    s1 = campaign_statistics(codes, strata, *args, n_resamples=200, seed=3)
    s2 = campaign_statistics(codes[:, perm], strata[perm], *args, n_resamples=200, seed=3)
    for a, b in zip(s1.items, s2.items, strict=True):
        assert a.summary == b.summary
        assert_allclose(a.rate.estimate, b.rate.estimate, rtol=1e-12)
        assert_allclose(a.rate.se, b.rate.se, rtol=1e-12)
        # the count bootstrap depends only on counts: identical intervals
        assert_allclose([a.index_interval.low, a.index_interval.high],
                        [b.index_interval.low, b.index_interval.high], rtol=1e-12)
    assert_allclose(s1.composite.overall, s2.composite.overall, rtol=1e-12)
    assert_allclose(s1.composite_se, s2.composite_se, rtol=1e-10)
    assert_allclose(s1.reliability.alpha, s2.reliability.alpha, rtol=1e-10)
    assert_allclose(s1.drivers.coefficients, s2.drivers.coefficients, rtol=1e-10)


PHRASES = ["停车位不够", "维修太慢", "物业维修不及时", "补贴发放慢", "", "  ", "希望加快进度",
           "。。。", "租赁补贴发放慢，维修太慢", "满意", "维修维修", "停车位不够，停车位太少"]


def _themes_spelled_out(comments, top_n, k):
    """comment_themes' definition, one comment at a time: counts per comment, ranking,
    and each term's first k comments in input order."""
    import re

    import jieba

    from analysis.comments import DEFAULT_STOP_WORDS

    doc, occ, examples, n_empty = {}, {}, {}, 0
    for comment in comments:
        text = (comment or "").strip()
        if not text:
            n_empty += 1
            continue
        terms = [t for t in jieba.lcut(text) if re.search("[\u4e00-\u9fffA-Za-z0-9]", t)
                 and len(t) >= 2 and t not in DEFAULT_STOP_WORDS]
        for term in terms:
            occ[term] = occ.get(term, 0) + 1
        for term in dict.fromkeys(terms):
            doc[term] = doc.get(term, 0) + 1
            if len(examples.setdefault(term, [])) < k:
                examples[term].append(text)
    ranked = sorted(doc, key=lambda t: (-doc[t], -occ[t], t))[:top_n]
    return [(t, doc[t], occ[t], tuple(examples[t])) for t in ranked], n_empty


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PHRASES), max_size=40), st.integers(1, 6), st.integers(0, 3),
       st.sets(st.sampled_from(PHRASES)))
def test_comment_themes_match_their_definition(comments, top_n, k, presegmented):
    from analysis import comment_themes, word_tokens

    # Some comments segmented beforehand (as stored), the others segmented by the call; one
    # stored as having no tokens at all ("。。。" has none) must stay so.
    segmented = {c.strip(): word_tokens(c) for c in presegmented if c.strip()}
    r = comment_themes(comments, top_n=top_n, examples_per_theme=k, segmented=segmented)
    themes, n_empty = _themes_spelled_out(comments, top_n, k)
    assert [(t.term, t.comment_count, t.occurrences, t.examples) for t in r.themes] == themes
    assert (r.n_comments, r.n_empty) == (len(comments), n_empty)
