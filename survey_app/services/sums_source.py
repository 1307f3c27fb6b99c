"""The scores document's numbers from the stored sums of an up-to-date campaign.

A :class:`SumsSource` answers what :class:`~survey_app.services.score_sources.RowSource`
answers, without reading the response rows: the cells from the category counts and pair
sums (:mod:`~survey_app.services.count_cells`), the drivers from the dimension-score
tables, reliability and validity from the pair and listwise sums, the mode effects from the
category counts per mode, the raking from the raking cells' counts (the stored cells are
group × community × project, within which every raked weight is equal) and the snapshot
stored with the sums. Only the comment themes read rows: the responses that wrote a comment,
their comment and its stored words.

It serves the unfiltered document (design or raked weights) of a campaign whose sums have
no pending change (:func:`category_counts.pending`); anything else is read from the rows.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
from sqlmodel import Session, select

import analysis
from survey_app.models import (
    Campaign,
    Community,
    CountSnapshot,
    Project,
    Response,
    ResponseMode,
)
from survey_app.services import category_counts, pair_sums, raking_cells, respondent_sums
from survey_app.services.count_cells import StoredCells, cell_statistics_from_sums
from survey_app.services.counted_data import (
    campaign_questionnaires,
    counted_query,
    questionnaire_layout,
)
from survey_app.services.pooled_sections import (
    comments_from,
    mode_effect_rows,
    reliability_from,
    validity_from,
)
from survey_app.services.score_filters import NA_CODE, ScoreFilters, ScoresError

#: The answer code of each slot of the stored category tables (count_cells: codes 1..5,
#: not applicable, no answer).
_SLOT_CODES = (1, 2, 3, 4, 5, NA_CODE, category_counts.NO_ANSWER_CODE)
#: The filters a document from the sums may have.
_SERVED = (ScoreFilters(), ScoreFilters(weighting="raked"))


class SumsSource:
    """A campaign's stored sums, as the scores document reads them."""

    def __init__(self, campaign: Campaign, layout, counts: Counter, pairs: dict, families,
                 *, session: Session):
        self.campaign, self.session = campaign, session
        self.item_ids, self.overall_item, self.dimensions, self.labels = layout
        self.pairs, self.families = pairs, families
        self.stored = StoredCells.of(self.item_ids, counts, pairs)
        self.project_codes = dict(session.exec(select(Project.id, Project.code).where(
            Project.campaign_id == campaign.id)).all())
        self.community_codes = dict(session.exec(select(Community.id, Community.code)).all())
        self.n = self.stored.respondents()
        self.snapshot = families.snapshot

    @classmethod
    def open(cls, campaign: Campaign, filters: ScoreFilters, *,
             session: Session) -> SumsSource | None:
        """The campaign's sums, or None where the document must be read from the rows
        (other filters, changes not yet in the sums, no questionnaire, a refresh that
        committed while the sums were being read)."""
        if filters not in _SERVED or category_counts.pending([campaign.id], session=session):
            return None
        # The stored snapshot is read first (with the families) and again after every read of
        # the sums: on PostgreSQL each statement sees what was committed when it started, so a
        # refresh committed in between would mix two states of the data; it replaces the
        # snapshot row with them.
        families = respondent_sums.stored(campaign.id, session=session)
        if families is None:  # never refreshed since the sums came
            return None
        try:
            layout = questionnaire_layout(campaign_questionnaires(campaign, session=session))
        except ScoresError:
            return None
        counts = category_counts.stored_counts(campaign.id, session=session)
        pairs = pair_sums.stored(campaign.id, session=session)
        if families.snapshot != _stored_snapshot(campaign.id, session=session):
            return None
        source = cls(campaign, layout, counts, pairs, families, session=session)
        return source if source.n == families.responses else None

    # ------------------------------------------------------------ cells

    def _selects(self, selector):
        if selector is None:
            return None
        key, code = selector
        if key == "groups":
            return lambda cell: cell[1] == code
        if key == "projects":
            return lambda cell: self.project_codes.get(cell[3]) == code
        return lambda cell: self.community_codes.get(cell[0]) == code

    def groups(self) -> set[str]:
        return {key[1] for key, cell in self.stored.cells.items() if cell.respondents}

    def values(self, key: str) -> list[str]:
        names, position = ((self.project_codes, 3) if key == "projects"
                           else (self.community_codes, 0))
        return sorted({names[cell_key[position]] for cell_key, cell in self.stored.cells.items()
                       if cell.respondents and cell_key[position] in names})

    def respondents(self, selector) -> int:
        return self.stored.respondents(self._selects(selector))

    def cell(self, selector, pops: dict[str, int], *, drivers: bool = False, raking=None):
        """As RowSource.cell."""
        cell = cell_statistics_from_sums(self.stored, self._selects(selector), pops,
                                         dimensions=self.dimensions,
                                         overall_item=self.overall_item,
                                         campaign=self.campaign)
        design = stats = cell.stats
        if stats is not None and drivers:
            stats = design = self._with_drivers(stats)
        if stats is not None and raking is not None:
            stats = raking.cell_statistics(design, self._selects(selector), pops)
        return cell.respondents, stats, design, cell.summary, lambda group: group

    def _with_drivers(self, stats):
        """The pooled statistics with the derived importance and IPA of its dimensions
        (their dimension-score × overall-answer tables)."""
        names = [d.name for d in stats.composite.dimensions]
        importance = analysis.derived_importance_from_tables(
            [self._driver_table(name) for name in names])
        ipa = analysis.importance_performance_quadrants(
            importance.coefficients, [d.index for d in stats.composite.dimensions], names,
            crosshair="mean", importance_midpoint=0.5, performance_midpoint=50.0)
        return dataclasses.replace(stats, drivers=importance, ipa=ipa)

    def _driver_table(self, dimension: str) -> list[tuple[int, int, int, int]]:
        """(score sum, score count, overall code, n) of one dimension (DriverCount)."""
        return [(total, count, code, n) for (d, total, count, code), n
                in self.families.drivers.items() if d == dimension]

    # ------------------------------------------------------------ non-response

    def sample_respondents(self) -> dict[tuple, int]:
        """Respondents who came through the sample (not the open link) by (group, project
        code, community code), as nonresponse.sample_respondents."""
        return self.raking_respondents(lambda key: key[2] != ResponseMode.WEB_OPEN.value)

    # ------------------------------------------------------------ pooled sections

    def mode_effects(self):
        """Web against paper (and interviews, when there are any) per item and group, from
        the category counts per mode."""
        modes = sorted({key[2] for key in self.stored.cells})
        label = {m: ("paper" if m == ResponseMode.PAPER.value else "interview"
                     if m == ResponseMode.INTERVIEW.value else "web") for m in modes}
        groups = sorted(self.groups())
        table = np.zeros((len(self.item_ids), len(groups), len(modes), len(_SLOT_CODES)),
                         dtype=np.int64)
        for (_community, group, mode, _project), cell in self.stored.cells.items():
            if not cell.respondents:
                continue
            table[:, groups.index(group), modes.index(mode)] += cell.slots
        compared = ["paper"] + (["interview"] if any(
            label[m] == "interview" and table[0, :, k].sum() for k, m in enumerate(modes))
            else [])
        out = []
        for other in compared:
            effects = analysis.item_mode_effects_from_counts(
                table, groups, [label[m] for m in modes], _SLOT_CODES, na_code=NA_CODE,
                paper=other)
            out += mode_effect_rows(self.item_ids, effects, other, lambda group: group)
        return out

    def comments(self):
        """The comment themes: the only rows read, those of the responses with a comment."""
        stmt = (counted_query(self.campaign, ScoreFilters(), codes=False)
                .where(Response.comment != ""))
        rows = self.session.connection().execute(
            stmt.with_only_columns(Response.comment, Response.comment_terms)).all()
        tokens = {comment: terms.split() for comment, terms in rows}
        return comments_from([comment for comment, _terms in rows], self.n, tokens)

    def reliability(self):
        """Cronbach's alpha, pairwise from the pooled pair sums and the responses by number
        of scale answers, listwise from the sums over the responses complete on the
        scale."""
        scale = [qid for qid in self.item_ids if qid != self.overall_item]
        counts = self.families.scale_counts
        alphas = {"pairwise": None, "listwise": None}
        if analysis.responses_with_at_least(counts, 2) >= 3:
            pooled: dict = {}
            pair_sums.add_cells(pooled, self.pairs)
            alphas["pairwise"] = analysis.pairwise_alpha_from_sums(
                *pair_sums.matrices(scale, pooled), counts)
        if analysis.responses_with_at_least(counts, len(scale)) >= 3:
            alphas["listwise"] = analysis.listwise_alpha_from_sums(
                self._row_set(respondent_sums.SCALE).select(scale))
        return reliability_from(alphas, scale)

    def validity(self):
        """Construct validity from the listwise sums of its row sets and each item's valid
        answers."""
        answered = sum(cell.slots[:, :5].sum(axis=1) for cell in self.stored.cells.values())
        valid = {qid: int(answered[j]) for j, qid in enumerate(self.item_ids)}
        sets = {name for name, _a, _b in self.families.listwise}
        v = analysis.construct_validity_from_sums(
            self.n, valid, self.dimensions, self.overall_item,
            {name: self._row_set(name) for name in sets if name != respondent_sums.SCALE},
            na_code=NA_CODE)
        return validity_from(v, self.labels)

    def _row_set(self, name: str):
        """One stored listwise row set as analysis.CompleteRowSums (items sorted)."""
        rows = {(a, b): values for (row_set, a, b), values in self.families.listwise.items()
                if row_set == name}
        n = rows.pop((respondent_sums.HEADER, respondent_sums.HEADER))[0]
        items = sorted(a for a, b in rows if a == b)
        return analysis.complete_row_sums_from_pairs(
            items, n, {pair: values[1:] for pair, values in rows.items()})

    # ------------------------------------------------------------ raking

    def _raking_key(self, key) -> tuple:
        """The raking cell of a stored cell: (group, project code, community code)."""
        community, group, _mode, project = key
        return (group, self.project_codes.get(project), self.community_codes.get(community))

    def raking_respondents(self, selects=None) -> dict[tuple, int]:
        """The selected stored cells' respondents per raking cell (modes added up)."""
        out: dict[tuple, int] = {}
        for key, cell in self.stored.cells.items():
            if cell.respondents and (selects is None or selects(key)):
                raking_key = self._raking_key(key)
                out[raking_key] = out.get(raking_key, 0) + cell.respondents
        return out

    def raking(self, roster_counts: dict, pops: dict[str, int], filters: ScoreFilters):
        """Each group's raking cells raked to the roster's margins
        (:func:`raking_cells.rake_cells`: the respondents' weights, per cell)."""
        cells = raking_cells.rake_cells(self.raking_respondents(), roster_counts, pops,
                                        filters)
        return None if cells is None else _SumsRaking(self, cells)

    def raked_headline(self, stats, pops: dict[str, int], raking):
        if stats is None or raking is None:
            return stats
        sums, weights, population, overall = raking.inputs(stats, None, pops)
        return analysis.raked_cell_headline(stats, sums, population, weights,
                                            overall_item=overall)

    def raking_ratio_range(self, raking) -> tuple[float, float]:
        ratio = raking.cells.weights / raking.cells.design_weights
        return float(ratio.min()), float(ratio.max())


def _stored_snapshot(campaign_id: int, *, session: Session) -> str | None:
    """The snapshot id stored with the campaign's sums, read from the database (not from
    the session's identity map)."""
    return session.exec(select(CountSnapshot.snapshot)
                        .where(CountSnapshot.campaign_id == campaign_id)).first()


class _SumsRaking:
    """The raking of a SumsSource's cells, as the document uses a raking: its ``result``
    and ``merged`` categories, and the raked statistics of a document cell."""

    def __init__(self, source: SumsSource, cells):
        self.source, self.cells = source, cells
        self.result, self.merged = cells.result, cells.merged

    def inputs(self, design, selects, pops: dict[str, int]):
        """(RakingCellSums, weights, N_h, overall item's row) of the document cell
        ``selects`` whose design-weighted statistics are ``design``."""
        source = self.source
        items = [it.name for it in design.items]
        in_dimensions = {i for its in source.dimensions.values() for i in its}
        counts, pairs = self._rows(selects)
        sums, weights = raking_cells.cell_sums(
            self.cells, source.raking_respondents(selects), items,
            [i for i in items if i in in_dimensions], counts, pairs)
        respondents = source.stored.by_group(selects)
        population = {g: max(int(pops.get(g, 0)), c.respondents) for g, c in respondents.items()}
        return sums, weights, population, items.index(source.overall_item)

    def _rows(self, selects) -> tuple[list[tuple], list[tuple]]:
        """The selected stored cells' category counts (the missing answers counted as code
        0) and pair sums, keyed by raking cell, as raking_cells.cell_sums reads them."""
        source = self.source
        counts, pairs = [], []
        for key, cell in source.stored.cells.items():
            if not cell.respondents or (selects is not None and not selects(key)):
                continue
            raking_key = source._raking_key(key)
            for j, item in enumerate(source.item_ids):
                counts += [(*raking_key, item, code, n) for code, n in zip(
                    _SLOT_CODES, cell.slots[j].tolist(), strict=True) if n]
        for (community, group, mode, project, a, b), values in source.pairs.items():
            key = (community, group, mode, project)
            if selects is None or selects(key):
                pairs.append((*source._raking_key(key), a, b, *values[:4], *values[6:]))
        return counts, pairs

    def cell_statistics(self, design, selects, pops: dict[str, int]):
        """The cell's statistics under the raked weights (as cell_statistics._raked)."""
        campaign = self.source.campaign
        sums, weights, population, overall = self.inputs(design, selects, pops)
        return analysis.raked_cell_statistics(
            design, sums, population, weights, overall_item=overall,
            target=campaign.indicator_target, points=campaign.indicator_points)
