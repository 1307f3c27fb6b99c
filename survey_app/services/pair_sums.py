"""Per-cell item-pair sums for each dimension's reliability (issue 23 item 4).

Pairwise-deletion alpha and the inter-item correlations are functions of four per-pair sums
(:func:`analysis.reliability.pairwise_sums`: N, S, P, Q), which add up over any partition of
the responses. ``PairSum`` rows hold them per campaign × community × household group × mode
× project for every pair of the rating items of the campaign's dimensions (every rating item but the
overall one; scale answers 1..5, 9 and no answer missing), so a region's alpha over all
those items, and per dimension, is one grouped query over its campaigns' rows and equals
the computation on all its responses exactly. With them each pair keeps how many of its
responses were satisfied (4 or 5) with a, with b and with both, for the satisfaction rates'
pairwise statistics.

The rows are kept by :func:`survey_app.services.category_counts.refresh` together with the
category counts (same ledger, same exact recomputation of a changed campaign) and compared
by ``survey-app counts check``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

import analysis
from survey_app.models import PairSum

#: The stored sums of a pair, in this order (the first six are N, S, P, Q's: :func:`matrices`).
SUM_COLUMNS = ("n", "sum_a", "sum_b", "sum_ab", "sumsq_a", "sumsq_b", "sat_a", "sat_b",
               "sat_ab")
#: The lowest satisfied code (4 "satisfied", 5 "very satisfied"), as the satisfaction rate's.
SATISFIED = 4


def dimension_pairs(dimensions: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """Every (item_a, item_b), item_a <= item_b, of the dimensions' items taken together
    (an item with itself too: its variance). Not only pairs within one dimension: the
    scores' alpha is over every rating item but the overall one (the built-in
    questionnaires have one item per dimension)."""
    items = sorted({item for its in dimensions.values() for item in its})
    return [(a, b) for j, a in enumerate(items) for b in items[j:]]


def scale(dimensions: Mapping[str, Sequence[str]]) -> list[str]:
    """The dimensions' items together (first seen first): the scale of the scores'
    reliability, every rating item but the overall one."""
    out: list[str] = []
    for items in dimensions.values():
        out += [item for item in items if item not in out]
    return out


def add_version(sums: dict, items: Sequence[str], cells, matrix: np.ndarray,
                pairs: Sequence[tuple[str, str]]) -> None:
    """Add the pair sums of one questionnaire version's responses to ``sums`` (key
    (*cell label, item_a, item_b) -> tuple of :data:`SUM_COLUMNS`).

    ``cells``: the responses' cells (a ``counted_data.Factor`` of (community, group, mode,
    project) labels); ``matrix``: their decoded
    codes (respondents × ``items``; NaN no answer, 9 not applicable). Pairs with an item the
    version lacks add nothing (those answers are missing).
    """
    column = {item: j for j, item in enumerate(items)}
    present = [(a, b) for a, b in pairs if a in column and b in column]
    if not present or not len(matrix):
        return
    ia = np.array([column[a] for a, _b in present])
    ib = np.array([column[b] for _a, b in present])
    on_scale = (matrix >= 1) & (matrix <= 5)
    x = np.where(on_scale, matrix, 0).astype(np.int64)
    # Every (response, pair) at once: key = cell × pairs + pair, kept where both answered.
    both = on_scale[:, ia] & on_scale[:, ib]
    keys = (cells.codes[:, None] * len(present) + np.arange(len(present)))[both]
    xa, xb = x[:, ia][both], x[:, ib][both]
    sat_a, sat_b = (xa >= SATISFIED).astype(np.int64), (xb >= SATISFIED).astype(np.int64)
    size = len(cells.labels) * len(present)
    # Weighted bincounts are float64: exact, the sums stay far below 2**53.
    stacked = np.vstack([np.bincount(keys, minlength=size)]
                        + [np.bincount(keys, weights=w, minlength=size)
                           for w in (xa, xb, xa * xb, xa * xa, xb * xb, sat_a, sat_b,
                                     sat_a * sat_b)])
    stacked = np.rint(stacked).astype(np.int64)
    for key in np.flatnonzero(stacked[0]).tolist():
        cell, pair = divmod(key, len(present))
        full = (*cells.labels[cell], *present[pair])
        old = sums.get(full, (0,) * len(SUM_COLUMNS))
        sums[full] = tuple(o + int(v) for o, v in zip(old, stacked[:, key], strict=True))


def stored(campaign_id: int, *, session: Session) -> dict:
    """The campaign's PairSum rows keyed like :func:`add_version`'s ``sums``."""
    columns = [getattr(PairSum, name) for name in SUM_COLUMNS]
    rows = session.exec(select(PairSum.community_id, PairSum.household_group, PairSum.mode,
                               PairSum.project_id, PairSum.item_a, PairSum.item_b, *columns)
                        .where(PairSum.campaign_id == campaign_id)).all()
    return {tuple(row[:6]): tuple(int(v) for v in row[6:]) for row in rows}


def replace(campaign_id: int, sums: dict, *, session: Session) -> None:
    """Replace the campaign's PairSum rows by ``sums``."""
    session.execute(delete(PairSum).where(PairSum.campaign_id == campaign_id))
    rows = [{"campaign_id": campaign_id, "community_id": community, "household_group": group,
             "mode": mode, "project_id": project, "item_a": a, "item_b": b,
             **dict(zip(SUM_COLUMNS, values, strict=True))}
            for (community, group, mode, project, a, b), values in sums.items() if values[0]]
    if rows:
        session.execute(insert(PairSum), rows)


def pooled(campaign_ids: Sequence[int], *, session: Session) -> dict:
    """(item_a, item_b) -> summed :data:`SUM_COLUMNS` over the stored rows of
    ``campaign_ids`` and all their cells (one grouped query)."""
    if not campaign_ids:
        return {}
    rows = session.exec(select(PairSum.item_a, PairSum.item_b,
                               *[func.sum(getattr(PairSum, name)) for name in SUM_COLUMNS])
                        .where(PairSum.campaign_id.in_(sorted(campaign_ids)))
                        .group_by(PairSum.item_a, PairSum.item_b)).all()
    return {(a, b): tuple(int(v) for v in values) for a, b, *values in rows}


def add_cells(into: dict, sums: dict) -> None:
    """Add per-cell ``sums`` (as :func:`stored`) into pooled ``into`` (as :func:`pooled`)."""
    for (*_cell, a, b), values in sums.items():
        old = into.get((a, b), (0,) * len(SUM_COLUMNS))
        into[(a, b)] = tuple(o + v for o, v in zip(old, values, strict=True))


def matrices(items: Sequence[str], sums: Mapping) -> tuple[np.ndarray, ...]:
    """N, S, P, Q of ``items`` (k × k, as :func:`analysis.pairwise_sums`) from pooled pair
    sums; a pair without a row shares no response."""
    k = len(items)
    n, s, p, q = (np.zeros((k, k)) for _ in range(4))
    for j, first in enumerate(items):
        for m, second in enumerate(items):
            a, b = sorted((first, second))
            count, sum_a, sum_b, sum_ab, sumsq_a, sumsq_b = sums.get((a, b), (0,) * 6)[:6]
            n[j, m], p[j, m] = count, sum_ab
            # S_jm and Q_jm sum item j (``first``) over the rows where item m is present.
            s[j, m], q[j, m] = (sum_a, sumsq_a) if first == a else (sum_b, sumsq_b)
    return n, s, p, q


def dimension_alpha(items: Sequence[str], sums: Mapping) -> analysis.PooledAlpha | None:
    """Pairwise alpha of ``items`` from pooled pair sums; None with fewer than two items or
    where it is undefined (a pair answered together by fewer than two responses, no
    variance)."""
    if len(items) < 2:
        return None
    result = analysis.alpha_from_sums(*matrices(items, sums))
    if not (np.isfinite(result.alpha) and np.isfinite(result.standardized_alpha)):
        return None
    return result
