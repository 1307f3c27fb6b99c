"""The raked document from counts: raking cells instead of respondents.

A raking cell is one household group × project × community: its counted respondents share
the design weight and the raking margins' categories (:data:`nonresponse.MARGINS`, crossed
with the group), so one raked weight. :func:`rake_cells` rakes the cells' respondent
counts as :func:`nonresponse.rake_counted` rakes the respondents (the same weights);
:func:`cell_sums` turns a document cell's stored rows (category counts, pair sums, keyed by
raking cell; the rows of a cell's modes add up) into what
:func:`analysis.raked_cell_statistics` and :func:`analysis.raked_cell_headline` read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

import analysis
from analysis.response_table import MISSING_SLOT, N_SLOTS, NA_SLOT
from survey_app.services.counted_data import Factor
from survey_app.services.nonresponse import MARGINS, TRIM, margin_targets
from survey_app.services.score_filters import NA_CODE, ScoreFilters

#: (household group, project code, community code), as the roster counts are keyed.
CellKey = tuple[str, "str | None", "str | None"]


@dataclass(frozen=True)
class CellRaking:
    """Raked weights per raking cell (those with respondents, in ``cells`` order), and
    what :func:`nonresponse.nonresponse_section` reports of the raking (as
    :class:`nonresponse.CountedRaking`, per cell instead of per respondent)."""

    cells: tuple[CellKey, ...]
    respondents: np.ndarray
    weights: np.ndarray
    margins: tuple[np.ndarray, ...]
    result: analysis.RakedWeights
    merged: tuple[str, ...]
    design_weights: np.ndarray


def _cell_order(key: CellKey) -> tuple:
    return tuple((part is None, part or "") for part in key)


def rake_cells(respondents: Mapping[CellKey, int], roster_counts: dict,
               pops: dict[str, int], filters: ScoreFilters) -> CellRaking | None:
    """:func:`nonresponse.rake_counted` from the counted respondents per raking cell
    (None: no respondents).

    ``respondents`` counts the document's counted responses per (group, project code,
    community code) (None: no project or community, an open-link answer);
    ``roster_counts``, ``pops`` and ``filters`` as :func:`nonresponse.rake_counted` takes
    them. The weights are the respondents' there, per cell (rtol 1e-12).
    """
    cells = sorted(((key, int(n)) for key, n in respondents.items() if n > 0),
                   key=lambda kv: _cell_order(kv[0]))
    if not cells:
        return None
    keys = tuple(key for key, _n in cells)
    r = np.array([n for _key, n in cells], dtype=float)
    groups = Factor.of([key[0] for key in keys])
    r_h = np.bincount(groups.codes, weights=r, minlength=len(groups.labels))
    n_h = np.array([max(int(pops.get(g, 0)), int(n)) for g, n in zip(groups.labels, r_h,
                                                                     strict=True)], float)
    base = (n_h / np.maximum(r_h, 1))[groups.codes]
    margins, targets, merged = [], [], []
    for name, position, _factor in MARGINS:
        factor = Factor.of([key[position] for key in keys])
        crossed, inverse = np.unique(groups.codes * len(factor.labels) + factor.codes,
                                     return_inverse=True)
        weighted = np.bincount(inverse, weights=r * base, minlength=crossed.size)
        target, unmatched = margin_targets(
            (name, position), groups.labels, factor.labels, crossed,
            lambda k, of=weighted: of[k], n_h, roster_counts, filters)
        merged += unmatched
        margins.append(inverse.astype(np.int64))
        targets.append(target)
    result = analysis.rake_weights(margins, targets, base, trim=TRIM, respondents=r)
    return CellRaking(keys, r, result.weights, tuple(margins), result, tuple(sorted(merged)),
                      base)


def cell_sums(raking: CellRaking, respondents: Mapping[CellKey, int],
              item_ids: Sequence[str], pair_items: Sequence[str],
              counts: Iterable[tuple], pairs: Iterable[tuple] = (),
              ) -> tuple[analysis.RakingCellSums, np.ndarray]:
    """A document cell's aggregates per raking cell, and those cells' raked weights.

    Parameters
    ----------
    raking : CellRaking
        The document's raking (:func:`rake_cells`).
    respondents : mapping
        The document cell's counted responses per raking cell (a subset of the raking's).
    item_ids : sequence of str
        The cell's items, in the order of its design-weighted statistics.
    pair_items : sequence of str
        The items with pair sums (the dimensions' items among ``item_ids``).
    counts : iterable of (group, project, community, item, code, n)
        Category-count rows (code 1..5, 9 not applicable, anything else no answer).
    pairs : iterable of (group, project, community, item_a, item_b, n, sum_a, sum_b, sum_ab,
        sat_a, sat_b, sat_ab)
        Pair-sum rows. Rows of other items or cells are left out.

    Returns
    -------
    (analysis.RakingCellSums, ndarray)
        Strata labelled by household group.
    """
    index = {key: k for k, key in enumerate(raking.cells)}
    cells = sorted(index[key] for key, n in respondents.items() if n > 0)
    at = {raking.cells[k]: g for g, k in enumerate(cells)}
    rows = {item: j for j, item in enumerate(item_ids)}
    sums = analysis.RakingCellSums(
        tuple(raking.cells[k][0] for k in cells), tuple(m[cells] for m in raking.margins),
        np.array([respondents[raking.cells[k]] for k in cells]), _count_table(counts, at, rows),
        _pair_tables(pairs, at, rows, pair_items))
    return sums, raking.weights[cells]


def _count_table(counts: Iterable[tuple], at: dict, rows: dict) -> np.ndarray:
    """items × cells × (codes 1..5, not applicable, no answer) of the category-count rows."""
    table = np.zeros((len(rows), len(at), N_SLOTS), dtype=np.int64)
    for group, project, community, item, code, n in counts:
        g, j = at.get((group, project, community)), rows.get(item)
        if g is not None and j is not None:
            table[j, g, int(code) - 1 if 1 <= code <= 5
                  else NA_SLOT if code == NA_CODE else MISSING_SLOT] += n
    return table


def _pair_tables(pairs: Iterable[tuple], at: dict, rows: dict,
                 pair_items: Sequence[str]) -> analysis.PairTables:
    """The pair-sum rows of the cells ``at`` and of two ``pair_items`` as tables."""
    with_pairs = set(pair_items)
    records = [(at[(r[0], r[1], r[2])], rows[r[3]], rows[r[4]], *r[5:]) for r in pairs
               if (r[0], r[1], r[2]) in at and r[3] in with_pairs and r[4] in with_pairs]
    columns = np.array(records, dtype=np.int64).T if records else np.zeros((10, 0), np.int64)
    return analysis.PairTables.of_records([rows[item] for item in pair_items], len(at),
                                          *columns)
