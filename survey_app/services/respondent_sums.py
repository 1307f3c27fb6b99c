"""Per-campaign respondent-level sums of the scores document's pooled sections (issue 23
item 4, "counts, not rows").

The per-cell counts and pair sums (:mod:`survey_app.services.category_counts`,
:mod:`survey_app.services.pair_sums`) cannot give what needs each response's answers
together: how many scale items a response answered (alpha's pairwise and listwise n, the
Feldt interval), sums over the responses complete on a set of items (listwise alpha, the
one-factor models, the overall item's regression) and the joint distribution of a dimension
score with the overall item (the drivers' rank correlations). These families hold them,
pooled over the campaign's counted responses (default filters, answers decoded as the
scores decode them: 1..5 the scale, 9 not applicable and no answer missing):

* ``ScaleCount``: responses by their number of scale answers to the scale items (the
  dimensions' items, :func:`pair_sums.scale`);
* ``ListwiseSum``: per row set, over the responses with a scale answer to every item of the
  set, n and the sums and cross-product sums of every pair of its items (a header row
  ``""`` × ``""`` carries n, also when there are no items). Row sets: ``scale``;
  ``dim:<d>`` per dimension of two or more items; ``valid:all``, the scale items answered by
  at least :data:`MIN_ANSWERED_SHARE` of the responses; ``model``, the overall item and the
  items of each dimension whose score (every item answered) is available for that share —
  as :func:`analysis.construct_validity` chooses them;
* ``DriverCount``: per dimension, the responses with a scale answer to the overall item and
  to at least one of the dimension's items, by the sum and number of those answers (the
  dimension score is their mean, :func:`analysis.campaign.dimension_scores`) and the
  overall code;
* ``CountSnapshot``: the snapshot id of the counted responses and their number, so a reader
  can tell the sums belong to the document's data.

Computed from :func:`counted_data.load_counted` (the document's own read), stored by the
category counts' refresh and compared by their check (same ledger, same exactness).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

from survey_app.models import Campaign, CountSnapshot, DriverCount, ListwiseSum, ScaleCount
from survey_app.services import pair_sums
from survey_app.services.counted_data import CountedData, load_counted, snapshot_id
from survey_app.services.score_filters import ScoresError

#: construct_validity's ``min_answered_share`` default, which the scores document uses.
MIN_ANSWERED_SHARE = 0.5
SCALE, VALID_ALL, MODEL = "scale", "valid:all", "model"
DIMENSION_SET = "dim:"
#: The item_a = item_b of a row set's header row (its n).
HEADER = ""
#: The stored sums of a ListwiseSum row, in this order.
LISTWISE_COLUMNS = ("n", "sum_a", "sum_b", "sum_ab")


@dataclass(frozen=True)
class RespondentSums:
    """One campaign's families: ``scale_counts`` usable -> n; ``listwise`` (row set, item_a,
    item_b) -> :data:`LISTWISE_COLUMNS`; ``drivers`` (dimension, score sum, score count,
    overall code) -> n."""

    snapshot: str
    responses: int
    scale_counts: dict[int, int]
    listwise: dict[tuple[str, str, str], tuple[int, int, int, int]]
    drivers: dict[tuple[str, int, int, int], int]


def row_sets(data: CountedData) -> dict[str, list[str]]:
    """The listwise row sets of ``data`` (name -> items, in the document's order)."""
    row = {item: j for j, item in enumerate(data.item_ids)}
    valid = _valid(data)
    # As construct_validity: a dimension holding the overall item is no dimension of it.
    dims = {d: list(its) for d, its in data.dimensions.items() if data.overall_item not in its}
    sets = {SCALE: pair_sums.scale(data.dimensions)}
    sets.update({DIMENSION_SET + d: its for d, its in dims.items() if len(its) >= 2})
    n = valid.shape[1]
    # The share over every counted response; none is kept without responses (as NaN >= 0.5).
    answered = (valid.mean(axis=1) >= MIN_ANSWERED_SHARE if n
                else np.zeros(len(data.item_ids), dtype=bool))
    sets[VALID_ALL] = [i for its in dims.values() for i in its if answered[row[i]]]
    model = [data.overall_item]
    for its in dims.values():
        scored = valid[[row[i] for i in its]].all(axis=0)
        if n and scored.mean() >= MIN_ANSWERED_SHARE:
            model += its
    sets[MODEL] = model
    return sets


def of_data(data: CountedData) -> RespondentSums:
    """The families of the counted responses ``data`` (a :func:`load_counted` result)."""
    row = {item: j for j, item in enumerate(data.item_ids)}
    valid = _valid(data)
    x = np.where(valid, data.codes, 0).astype(np.int64)
    listwise = {}
    for name, items in row_sets(data).items():
        listwise.update(_listwise(name, sorted(set(items)), row, valid, x))
    return RespondentSums(
        snapshot=snapshot_id(data.snapshot_lines), responses=len(data.response_ids),
        scale_counts=scale_counts(data), listwise=listwise,
        drivers=_drivers(data, row, valid, x))


def scale_counts(data: CountedData) -> dict[int, int]:
    """Usable scale answers -> responses of ``data`` (the ``ScaleCount`` family; counts of
    0 left out)."""
    row = {item: j for j, item in enumerate(data.item_ids)}
    scale = [row[i] for i in pair_sums.scale(data.dimensions)]
    usable = np.bincount(_valid(data)[scale].sum(axis=0), minlength=len(scale) + 1)
    return {k: n for k, n in enumerate(usable.tolist()) if n}


def _valid(data: CountedData) -> np.ndarray:
    """items × respondents: an answer on the scale (NaN compares False)."""
    return (data.codes >= 1) & (data.codes <= 5)


def _listwise(name: str, items: list[str], row: dict[str, int], valid: np.ndarray,
              x: np.ndarray) -> dict:
    """The header and every pair (a <= b) of one row set; the pairs' rows also with n = 0,
    so the stored diagonal names the set's items."""
    rows = [row[i] for i in items]
    complete = valid[rows].all(axis=0)
    n = int(complete.sum())
    block = x[rows][:, complete]
    sums = block.sum(axis=1).tolist()
    products = (block @ block.T).tolist()  # int64: exact
    out = {(name, HEADER, HEADER): (n, 0, 0, 0)}
    for j, a in enumerate(items):
        for m in range(j, len(items)):
            out[(name, a, items[m])] = (n, sums[j], sums[m], products[j][m])
    return out


def _drivers(data: CountedData, row: dict[str, int], valid: np.ndarray,
             x: np.ndarray) -> dict:
    overall = row[data.overall_item]
    rated = valid[overall]
    out = {}
    for d, items in data.dimensions.items():
        rows = [row[i] for i in items]
        count = valid[rows].sum(axis=0)
        used = rated & (count >= 1)
        keys = np.stack([x[rows].sum(axis=0)[used], count[used], x[overall][used]])
        distinct, ns = np.unique(keys, axis=1, return_counts=True)
        for (total, answered, code), n in zip(distinct.T.tolist(), ns.tolist(), strict=True):
            out[(d, total, answered, code)] = n
    return out


def computed(campaign: Campaign, *, session: Session) -> RespondentSums | None:
    """The campaign's families from its counted response rows; None when it has no scores
    (no questionnaire with an overall item)."""
    try:
        data = load_counted(campaign, session=session)
    except ScoresError:
        return None
    return of_data(data)


def computed_scale_counts(campaign: Campaign, *, session: Session) -> dict[int, int]:
    """The campaign's ``scale_counts`` of :func:`computed` alone (a roll-up's pending
    campaign: the other families are not needed there); empty when it has no scores."""
    try:
        data = load_counted(campaign, session=session)
    except ScoresError:
        return {}
    return scale_counts(data)


def pooled_scale_counts(campaign_ids: Sequence[int], *, session: Session) -> dict[int, int]:
    """Usable scale answers -> responses, the stored ``ScaleCount`` rows of
    ``campaign_ids`` added up (one grouped query). Each campaign counts over its own
    scale; pooled over a region whose scale is their union these are the answered items of
    that union, because the pair sums too take an item outside a campaign's scale as
    missing for its responses (:func:`pair_sums.add_version`)."""
    if not campaign_ids:
        return {}
    rows = session.exec(select(ScaleCount.usable, func.sum(ScaleCount.n))
                        .where(ScaleCount.campaign_id.in_(sorted(campaign_ids)))
                        .group_by(ScaleCount.usable)).all()
    return {int(k): int(n) for k, n in rows}


def add_scale_counts(into: dict[int, int], counts: dict[int, int]) -> None:
    """Add ``counts`` (usable -> responses) into ``into``."""
    for usable, n in counts.items():
        into[usable] = into.get(usable, 0) + n


def stored(campaign_id: int, *, session: Session) -> RespondentSums | None:
    """The campaign's stored rows (None without a snapshot row: nothing stored). The
    snapshot row is read from the database, not taken from the session's identity map: a
    reader compares it with a second read (sums_source)."""
    snapshot = session.exec(select(CountSnapshot.snapshot, CountSnapshot.responses)
                            .where(CountSnapshot.campaign_id == campaign_id)).first()
    if snapshot is None:
        return None
    scale = session.exec(select(ScaleCount.usable, ScaleCount.n)
                         .where(ScaleCount.campaign_id == campaign_id)).all()
    listwise = session.exec(select(ListwiseSum.row_set, ListwiseSum.item_a, ListwiseSum.item_b,
                                   *[getattr(ListwiseSum, c) for c in LISTWISE_COLUMNS])
                            .where(ListwiseSum.campaign_id == campaign_id)).all()
    drivers = session.exec(select(DriverCount.dimension, DriverCount.score_sum,
                                  DriverCount.score_count, DriverCount.overall_code,
                                  DriverCount.n)
                           .where(DriverCount.campaign_id == campaign_id)).all()
    return RespondentSums(
        snapshot=snapshot.snapshot, responses=snapshot.responses,
        scale_counts={int(k): int(n) for k, n in scale},
        listwise={tuple(r[:3]): tuple(int(v) for v in r[3:]) for r in listwise},
        drivers={(d, int(s), int(c), int(o)): int(n) for d, s, c, o, n in drivers})


def replace(campaign_id: int, sums: RespondentSums | None, *, session: Session) -> None:
    """Replace the campaign's rows by ``sums`` (None: none)."""
    for model in (ScaleCount, ListwiseSum, DriverCount, CountSnapshot):
        session.execute(delete(model).where(model.campaign_id == campaign_id))
    if sums is None:
        return
    key = {"campaign_id": campaign_id}
    session.execute(insert(CountSnapshot), [{**key, "snapshot": sums.snapshot,
                                             "responses": sums.responses}])
    tables = (
        (ScaleCount, [{**key, "usable": k, "n": n} for k, n in sums.scale_counts.items()]),
        (ListwiseSum, [{**key, "row_set": s, "item_a": a, "item_b": b,
                        **dict(zip(LISTWISE_COLUMNS, values, strict=True))}
                       for (s, a, b), values in sums.listwise.items()]),
        (DriverCount, [{**key, "dimension": d, "score_sum": s, "score_count": c,
                        "overall_code": o, "n": n}
                       for (d, s, c, o), n in sums.drivers.items()]))
    for model, rows in tables:
        if rows:
            session.execute(insert(model), rows)


def refresh(campaign: Campaign, *, session: Session) -> None:
    """Recompute and replace the campaign's rows (the category counts' refresh)."""
    replace(campaign.id, computed(campaign, session=session), session=session)


def differences(campaign: Campaign, *, session: Session) -> list[tuple[str, object, object]]:
    """(what, stored, recomputed) for every stored value that differs from a recomputation
    from the campaign's response rows (``counts check``)."""
    return compare(stored(campaign.id, session=session),
                   computed(campaign, session=session))


def compare(stored_sums: RespondentSums | None,
            recomputed: RespondentSums | None) -> list[tuple[str, object, object]]:
    """(what, stored, recomputed) where ``stored_sums`` and ``recomputed`` differ."""
    if stored_sums is None or recomputed is None:
        if stored_sums == recomputed:
            return []
        return [("respondent sums (snapshot)", _snapshot(stored_sums), _snapshot(recomputed))]
    out = [(name, old, new) for name, old, new in (
        ("respondent sums snapshot", stored_sums.snapshot, recomputed.snapshot),
        ("respondent sums responses", stored_sums.responses, recomputed.responses))
        if old != new]
    out += _differences(stored_sums.scale_counts, recomputed.scale_counts,
                        lambda k: f"responses with {k} usable scale items")
    for j, column in enumerate(LISTWISE_COLUMNS):
        out += _differences(
            {k: v[j] for k, v in stored_sums.listwise.items()},
            {k: v[j] for k, v in recomputed.listwise.items()},
            lambda k, column=column: f"listwise {k[0]} pair {k[1] or '-'}×{k[2] or '-'} "
                                     f"{column}")
    out += _differences(
        stored_sums.drivers, recomputed.drivers,
        lambda k: f"driver {k[0]} score sum {k[1]} of {k[2]} answers, overall {k[3]}")
    return out


def _snapshot(sums: RespondentSums | None) -> str:
    return "(none)" if sums is None else sums.snapshot


def _differences(stored_values: dict, recomputed: dict, name) -> list:
    """A row on one side only is a difference too (None: absent), even with n = 0."""
    keys = sorted(set(stored_values) | set(recomputed), key=repr)
    return [(name(k), stored_values.get(k), recomputed.get(k)) for k in keys
            if stored_values.get(k) != recomputed.get(k)]
