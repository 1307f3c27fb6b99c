"""The analysis of one cell of the scores document (split from
:mod:`survey_app.services.scores`): the cell's answers as ``analysis`` takes them, its
design-weighted and raked statistics, and the raked headline figures of the non-response
section."""

from __future__ import annotations

import numpy as np

import analysis
from survey_app.services.counted_data import CountedData
from survey_app.services.score_filters import NA_CODE


def cell_inputs(data: CountedData, mask: np.ndarray, pops: dict[str, int]):
    """(answers, strata, N_h, dimension rows, overall row, item columns) of the cell as
    campaign_statistics takes them; None when nothing is computable.

    Items without a valid answer in the cell are left out (a stratified mean needs at least
    one answer); dimensions left without items drop out of the composite.
    """
    everyone = bool(mask.all())  # the pooled cell: no copy of the matrix
    # compress keeps the rows C-ordered (codes[:, mask] is column-major, which made every
    # later pass over the cell's matrix mix layouts and run several times slower).
    y = data.codes if everyone else np.compress(mask, data.codes, axis=1)
    groups = data.factor("groups")
    strata = groups.codes if everyone else groups.codes[mask]
    if y.shape[1] == 0:
        return None
    present = np.flatnonzero(data.valid_answers.any(axis=1) if everyone
                             else np.compress(mask, data.valid_answers, axis=1).any(axis=1)
                             ).tolist()
    overall_j = data.item_ids.index(data.overall_item)
    rows = {j: k for k, j in enumerate(present)}
    dims = cell_dimensions(data.dimensions, data.item_ids, rows)
    if overall_j not in rows or not dims:
        return None
    respondents = np.bincount(strata, minlength=len(groups.labels))
    pop = {k: max(int(pops.get(groups.labels[k], 0)), int(respondents[k]))
           for k in np.flatnonzero(respondents).tolist()}
    y = y if len(present) == len(data.item_ids) else y[present]
    return y, strata, pop, dims, rows[overall_j], present


def cell_statistics(data: CountedData, mask: np.ndarray, pops: dict[str, int], *,
                     drivers: bool = False, raking=None):
    """campaign_statistics over the respondents in ``mask`` (None when nothing is
    computable), and the design-weighted statistics it started from.

    Only what the document shows is computed: no bootstrap item intervals (the document
    gives Wilson and normal intervals), no reliability (see _reliability), drivers only
    when asked (the pooled cell). With ``raking`` (nonresponse.CountedRaking) the item
    estimates, composite and indicator are the raked ones.
    """
    inputs = cell_inputs(data, mask, pops)
    if inputs is None:
        return None, None
    y, strata, pop, dims, overall_row, present = inputs
    campaign = data.campaign
    design = analysis.campaign_statistics(
        y, strata, pop, dims, overall_row,
        item_names=[data.item_ids[j] for j in present], na_code=NA_CODE,
        target=campaign.indicator_target, points=campaign.indicator_points,
        reliability=False, item_intervals=False, drivers=drivers,
        # Raked cells replace the composite's and dimensions' SEs: not computed twice.
        linearised_ses=raking is None)
    if raking is None:
        return design, design
    return _raked(design, y, strata, pop, raking, mask, overall_row, campaign), design


def cell_dimensions(dimensions: dict[str, list[str]], item_ids: list[str],
                    rows: dict[int, int]) -> dict[str, list[int]]:
    """Each dimension's rows among the cell's items (``rows``: item position -> row of the
    cell's computable items; dimensions without any left out)."""
    dims = {}
    for dim, items in dimensions.items():
        kept = [rows[item_ids.index(i)] for i in items if item_ids.index(i) in rows]
        if kept:
            dims[dim] = kept
    return dims


def _raked(stats, y, strata, pop, raking, mask, overall_row: int, campaign):
    """The cell's statistics under the raked weights of its respondents (``mask``)."""
    # compress: the same arrays as boolean indexing, several times faster.
    return analysis.raked_campaign_statistics(
        stats, y, strata, pop, np.compress(mask, raking.weights),
        [np.compress(mask, m) for m in raking.margins],
        overall_item=overall_row, na_code=NA_CODE, target=campaign.indicator_target,
        points=campaign.indicator_points)


def raked_headline(data: CountedData, stats, pops: dict[str, int], raking):
    """analysis.raked_headline of the pooled cell (``stats`` its design statistics)."""
    if stats is None or raking is None:
        return stats
    y, strata, pop, _dims, overall_row, _present = cell_inputs(
        data, np.ones(len(data.response_ids), dtype=bool), pops)
    return analysis.raked_headline(stats, y, strata, pop, raking.weights,
                                   overall_item=overall_row, na_code=NA_CODE)
