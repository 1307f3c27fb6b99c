"""The cells of the scores document from the stored category counts and pair sums.

The scores document cuts its counted responses into cells (pooled, each household group,
project and community), and each cell's statistics are functions of its category counts per
household group (the strata) and of its dimension items' pair sums per group
(:func:`analysis.campaign_statistics_from_sums`). Both are stored per campaign × community ×
group × mode × project (``CategoryCount``, ``PairSum``; :mod:`category_counts`), so a cell is
a sum of those stored cells: :class:`StoredCells` adds them up and
:func:`cell_statistics_from_sums` repeats the row-based cell's rules
(:func:`survey_app.services.cell_statistics.cell_inputs`) on the sums: items without a valid
answer in the cell are left out, dimensions without items drop out, nothing is computed
without a valid overall answer, N_h is raised to the group's respondents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

import analysis

# The slots of analysis' category tables: codes 1..5, then not applicable, then missing.
from analysis.response_table import MISSING_SLOT, N_SLOTS, NA_SLOT
from survey_app.services.category_counts import NO_ANSWER_CODE, RESPONSES
from survey_app.services.cell_statistics import cell_dimensions
from survey_app.services.pair_sums import SUM_COLUMNS
from survey_app.services.score_filters import NA_CODE

#: A stored cell: (community id, household group, mode, project id); 0 ids: none.
CellKey = tuple[int, str, str, int]
#: Which stored cells a document cell takes.
Selects = Callable[[CellKey], bool]



def _slot(code: int) -> int | None:
    """The slot of analysis' category tables (codes 1..5, then NA, then missing)."""
    if 1 <= code <= 5:
        return code - 1
    if code == NA_CODE:
        return NA_SLOT
    return None  # no answer: the missing slot is what the respondents leave over


@dataclass
class _Stored:
    respondents: int = 0
    slots: np.ndarray | None = None  # items x N_SLOTS
    pairs: np.ndarray | None = None  # 7 sums (n, sums, products, satisfied...) x items x items


@dataclass
class StoredCells:
    """A campaign's stored cells laid out on the document's items (``item_ids``, the
    union layout of :func:`counted_data.questionnaire_layout`)."""

    item_ids: list[str]
    cells: dict[CellKey, _Stored] = field(default_factory=dict)

    @classmethod
    def of(cls, item_ids: list[str], counts: Mapping, pairs: Mapping) -> StoredCells:
        """From ``counts`` keyed (community, group, mode, project, item, code) and ``pairs``
        keyed (community, group, mode, project, item_a, item_b) -> :data:`SUM_COLUMNS`."""
        out = cls(list(item_ids))
        row = {item: j for j, item in enumerate(item_ids)}
        k = len(item_ids)
        for (community, group, mode, project, item, code), n in counts.items():
            cell = out._cell((int(community), group, mode, int(project)), k)
            if item == RESPONSES and code == NO_ANSWER_CODE:
                cell.respondents += int(n)
            elif item in row and _slot(int(code)) is not None:
                cell.slots[row[item], _slot(int(code))] += int(n)
        for (community, group, mode, project, a, b), values in pairs.items():
            if a not in row or b not in row:
                continue
            cell = out._cell((int(community), group, mode, int(project)), k)
            _place_pair(cell.pairs, row[a], row[b], dict(zip(SUM_COLUMNS, values,
                                                             strict=True)))
        for cell in out.cells.values():  # no answer: what the cell's respondents leave over
            cell.slots[:, MISSING_SLOT] = cell.respondents - cell.slots[:, :MISSING_SLOT].sum(
                axis=1)
        return out

    def _cell(self, key: CellKey, k: int) -> _Stored:
        if key not in self.cells:
            self.cells[key] = _Stored(0, np.zeros((k, N_SLOTS), dtype=np.int64),
                                      np.zeros((5, k, k), dtype=np.int64))
        return self.cells[key]

    def respondents(self, selects: Selects | None = None) -> int:
        return sum(c.respondents for key, c in self.cells.items()
                   if selects is None or selects(key))

    def by_group(self, selects: Selects | None = None) -> dict[str, _Stored]:
        """The selected stored cells added up per household group (groups sorted, those
        without respondents left out)."""
        out: dict[str, _Stored] = {}
        for key, cell in self.cells.items():  # integer sums: the order does not matter
            if selects is not None and not selects(key):
                continue
            total = out.setdefault(key[1], _Stored(0, np.zeros_like(cell.slots),
                                                   np.zeros_like(cell.pairs)))
            total.respondents += cell.respondents
            total.slots += cell.slots
            total.pairs += cell.pairs
        return {g: out[g] for g in sorted(out) if out[g].respondents}


def _place_pair(pairs: np.ndarray, ja: int, jb: int, v: dict[str, int]) -> None:
    """One stored pair (a <= b by id) into the full arrays of StratumPairSums' layout:
    n, sums, products, satisfied, satisfied_both."""
    pairs[0, ja, jb] = pairs[0, jb, ja] = v["n"]
    pairs[1, ja, jb], pairs[1, jb, ja] = v["sum_a"], v["sum_b"]
    pairs[2, ja, jb] = pairs[2, jb, ja] = v["sum_ab"]
    pairs[3, ja, jb], pairs[3, jb, ja] = v["sat_a"], v["sat_b"]
    pairs[4, ja, jb] = pairs[4, jb, ja] = v["sat_ab"]


@dataclass(frozen=True)
class SumsCell:
    """One document cell from the sums: its respondents, its per-group category tables
    (items x groups x N_SLOTS) and the statistics (None when nothing is computable)."""

    respondents: int
    slots: np.ndarray
    stats: object | None

    def summary(self, j: int):
        """The item's unweighted summary over the cell (an item left out of the
        statistics still shows its counts)."""
        total = self.slots[j].sum(axis=0)
        return analysis.summary_from_counts(total[:5], n_na=int(total[NA_SLOT]),
                                            n_missing=int(total[MISSING_SLOT]))


def cell_statistics_from_sums(stored: StoredCells, selects: Selects | None,
                              pops: Mapping[str, int], *, dimensions: Mapping[str, list[str]],
                              overall_item: str, campaign) -> SumsCell:
    """The cell's design-weighted statistics from the sums, under the row-based cell's
    rules (module docstring)."""
    groups = stored.by_group(selects)
    labels = tuple(groups)
    k = len(stored.item_ids)
    slots = (np.stack([groups[g].slots for g in labels], axis=1) if labels
             else np.zeros((k, 0, N_SLOTS), dtype=np.int64))
    respondents = sum(groups[g].respondents for g in labels)
    present = np.flatnonzero(slots[:, :, :5].sum(axis=(1, 2)) > 0).tolist()
    rows = {j: n for n, j in enumerate(present)}
    overall_j = stored.item_ids.index(overall_item)
    dims = cell_dimensions(dimensions, stored.item_ids, rows)
    if not labels or overall_j not in rows or not dims:
        return SumsCell(respondents, slots, None)
    pairs = np.stack([groups[g].pairs for g in labels], axis=1)[:, :, present][:, :, :, present]
    population = {g: max(int(pops.get(g, 0)), groups[g].respondents) for g in labels}
    stats = analysis.campaign_statistics_from_sums(
        slots[present], analysis.StratumPairSums(*pairs), list(labels), population, dims,
        rows[overall_j], item_names=[stored.item_ids[j] for j in present], na_code=NA_CODE,
        target=campaign.indicator_target, points=campaign.indicator_points)
    return SumsCell(respondents, slots, stats)
