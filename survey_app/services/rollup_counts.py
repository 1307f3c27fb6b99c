"""The county × household-group strata of a roll-up, from the category counts.

A roll-up needs, per county campaign and household group, the overall item's satisfaction
rate and score with their SEs, the valid answers r_ch and the roster households N_ch
(:mod:`survey_app.services.rollups`). The scores document computes each group's cell as a
single-stratum stratified estimate with the finite-population correction
(``cell_statistics`` → ``analysis.campaign_statistics``: N' = max(N_g, responses of the
group), moments from the item's category counts). Those depend only on the group's counts
of the overall item's codes 1..5 and its number of responses, so they are computed here from
the ``CategoryCount`` rows (:mod:`survey_app.services.category_counts`) with the same
``analysis`` functions, unrounded: one grouped query over every campaign of the region
instead of one scores document per county (~0.45 s each).

The document's suppression and left-out rules are repeated exactly: a group with fewer than
MIN_CELL responses is suppressed; a group whose overall item has no valid answer, or none of
whose dimension items has one (the pseudo-item ``"*"``), has no estimate; a group without
roster households is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

import analysis
from survey_app.models import (
    Campaign,
    CampaignQuestionnaire,
    CategoryCount,
    QuestionnaireVersion,
    RosterCount,
    Unit,
)
from survey_app.services import category_counts, pair_sums
from survey_app.services.counted_data import questionnaire_layout
from survey_app.services.questionnaire_versions import BUILTIN_FOR_GROUP, questionnaire_of
from survey_app.services.score_filters import MIN_CELL, ScoresError

_PSEUDO_ITEMS = {category_counts.RESPONSES, category_counts.DIMENSIONS_ANSWERED}
#: score = 20 + 0.8 × index: the score's SE is 0.8 × the index's (analysis.estimates).
SCORE_PER_INDEX_POINT = 0.8


@dataclass
class GroupCounts:
    """One campaign × household group: its responses, the overall item's codes 1..5 and
    the responses with a valid answer to a dimension item."""

    responses: int = 0
    overall: np.ndarray = field(default_factory=lambda: np.zeros(5, dtype=np.int64))
    dimensions_answered: int = 0


@dataclass(frozen=True)
class RegionStrata:
    """The roll-up's inputs: key (county code) -> (campaign, county), the rate and score
    strata in the keys' order, the campaigns skipped and the overall items."""

    counties: dict[str, tuple[Campaign, Unit]]
    rate_cells: list
    score_cells: list
    skipped: list[str]
    items: set[str]
    #: dimension -> its items over the campaigns (first seen first), and the item-pair
    #: sums pooled over every campaign (:mod:`survey_app.services.pair_sums`).
    dimensions: dict[str, list[str]] = field(default_factory=dict)
    pairs: dict = field(default_factory=dict)


def region_strata(under: Sequence[tuple[Campaign, Unit]], *, session: Session) -> RegionStrata:
    """The strata of the campaigns ``under`` a region.

    Reads only: the stored counts of the campaigns without pending changes, and the counts
    of those with pending changes recomputed here from their rows (the refresh pass keeps
    them: :func:`category_counts.refresh_pending`). The ledger is read before the counts, so
    counts read as up to date hold every change committed before that read.
    """
    layouts = _layouts([c.id for c, _u in under], session=session)
    counts, populations, pairs = _counts_and_populations(
        [c for c, _u in under if c.id in layouts], layouts, session=session)
    dimensions: dict[str, list[str]] = {}
    counties: dict[str, tuple[Campaign, Unit]] = {}
    rate_cells, score_cells, skipped, items = [], [], [], set()
    for campaign, county in under:
        layout = layouts.get(campaign.id)
        if layout is None:
            skipped.append(campaign.slug)
            continue
        key = county.code if county.code not in counties else f"{county.code}:{campaign.slug}"
        counties[key] = (campaign, county)
        items.add(layout[0])
        for name, its in layout[1].items():
            known = dimensions.setdefault(name, [])
            known += [item for item in its if item not in known]
        pops = populations.get(campaign.id, {})
        groups = counts.get(campaign.id, {})
        for group in sorted(set(pops) | {g for g, c in groups.items() if c.responses}):
            rate, score = group_strata(key, group, groups.get(group, GroupCounts()),
                                       pops.get(group, 0))
            rate_cells.append(rate)
            score_cells.append(score)
    return RegionStrata(counties, rate_cells, score_cells, skipped, items, dimensions, pairs)


def _counts_and_populations(campaigns: list[Campaign], layouts: dict, *, session: Session):
    """campaign id -> group -> GroupCounts, campaign id -> group -> N_g, and the pooled
    item-pair sums: stored for the campaigns without pending changes, recomputed for the
    others."""
    stale = category_counts.pending([c.id for c in campaigns], session=session)
    overall_items = {cid: layout[0] for cid, layout in layouts.items()}
    clean = [c.id for c in campaigns if c.id not in stale]
    rows = _stored_rows(clean, overall_items, session=session)
    populations = _populations(clean, session=session)
    pairs = pair_sums.pooled(clean, session=session)
    for campaign in campaigns:
        if campaign.id not in stale:
            continue
        rows += _computed_rows(campaign, overall_items[campaign.id], pairs, session=session)
        own = populations.setdefault(campaign.id, {})
        for (group, _community), n in category_counts.computed_roster(
                campaign.id, session=session).items():
            own[group] = own.get(group, 0) + n
    return _group_counts(rows, overall_items), populations, pairs


def group_strata(key: str, group: str, counts: GroupCounts, population: int):
    """The (rate, score) RollupCells of one campaign's household group, as the group's row
    of the scores document gives them but unrounded."""
    r = int(counts.overall.sum())
    computable = r > 0 and counts.dimensions_answered > 0
    if counts.responses < MIN_CELL or not computable or not population:
        size = 1 if counts.responses < MIN_CELL else max(population, 1)
        nan = float("nan")
        return (analysis.RollupCell(key, group, size, 0, nan, nan),
                analysis.RollupCell(key, group, size, 0, nan, nan))
    from analysis.campaign import stratum_moments
    from analysis.stratified import stratified_mean_from_moments

    n, rate_h, var_rate, mean_h, var_mean = stratum_moments(counts.overall[None, :])
    design_population = [max(population, counts.responses)]
    rate = stratified_mean_from_moments([group], n, rate_h, var_rate, design_population,
                                        measure="satisfaction rate")
    index = stratified_mean_from_moments([group], n, (mean_h - 1) * 25, var_mean * 625,
                                         design_population, measure="index")
    estimates = analysis.item_estimates(rate, index)
    size = max(population, r)
    return (analysis.RollupCell(key, group, size, r, estimates.rate.estimate,
                                estimates.rate.se),
            analysis.RollupCell(key, group, size, r, estimates.score.estimate,
                                SCORE_PER_INDEX_POINT * estimates.index.se))


def _layouts(campaign_ids: list[int], *, session: Session) -> dict[int, tuple]:
    """campaign id -> (overall item, dimension -> its items) of its attached
    questionnaires (one query); campaigns without a usable questionnaire are absent."""
    rows = session.exec(
        select(CampaignQuestionnaire.campaign_id, CampaignQuestionnaire.household_group,
               CampaignQuestionnaire.questionnaire_version_id)
        .where(CampaignQuestionnaire.campaign_id.in_(campaign_ids or [-1]))
        .order_by(CampaignQuestionnaire.id)).all()
    # The few distinct versions (usually the two built-in ones), not one definition per
    # campaign: 240 JSON definitions cost 200 ms to load.
    versions = {v.id: v for v in session.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.id.in_({row[2] for row in rows} or {-1}))).all()}
    attached: dict[int, dict[str, QuestionnaireVersion]] = {}
    for campaign_id, group, version_id in rows:
        attached.setdefault(campaign_id, {}).setdefault(group, versions[version_id])
    out = {}
    for campaign_id, versions in attached.items():
        # In the order campaign_questionnaires reads them: the layout's item order.
        questionnaires = {str(g): questionnaire_of(versions[str(g)])
                          for g in BUILTIN_FOR_GROUP if str(g) in versions}
        if not questionnaires:
            continue
        try:
            _items, overall, dimensions, _labels = questionnaire_layout(questionnaires)
        except ScoresError:
            continue
        out[campaign_id] = (overall, dimensions)
    return out


def _stored_rows(campaign_ids: list[int], overall_items: dict[int, str], *,
                 session: Session) -> list:
    """(campaign id, group, item, code, n) of the overall items and the pseudo-items, summed
    over communities, modes and projects: one grouped query over the key's prefix (campaign,
    item) of the stored counts of ``campaign_ids``, not every item's codes."""
    if not campaign_ids:
        return []
    items = {overall_items[cid] for cid in campaign_ids} | _PSEUDO_ITEMS
    return list(session.exec(
        select(CategoryCount.campaign_id, CategoryCount.household_group, CategoryCount.item,
               CategoryCount.code, func.sum(CategoryCount.n))
        .where(CategoryCount.campaign_id.in_(campaign_ids), CategoryCount.item.in_(items))
        .group_by(CategoryCount.campaign_id, CategoryCount.household_group,
                  CategoryCount.item, CategoryCount.code)).all())


def _computed_rows(campaign: Campaign, overall_item: str, pairs: dict, *,
                   session: Session) -> list:
    """The rows of :func:`_stored_rows` for one campaign, recomputed from its responses;
    its pair sums are added to ``pairs``."""
    summed: Counter = Counter()
    counts, sums = category_counts.computed(campaign, session=session)
    pair_sums.add_cells(pairs, sums)
    for (_community, group, _mode, _project, item, code), n in counts.items():
        if item == overall_item or item in _PSEUDO_ITEMS:
            summed[(group, item, code)] += n
    return [(campaign.id, *key, n) for key, n in summed.items()]


def _group_counts(rows: list, overall_items: dict[int, str]) -> dict:
    """campaign id -> group -> GroupCounts from (campaign id, group, item, code, n) rows
    (``overall_items``: campaign id -> its overall item)."""
    out: dict[int, dict[str, GroupCounts]] = {}
    for campaign_id, group, item, code, n in rows:
        counts = out.setdefault(campaign_id, {}).setdefault(group, GroupCounts())
        if item == category_counts.RESPONSES:
            counts.responses += int(n)
        elif item == category_counts.DIMENSIONS_ANSWERED:
            counts.dimensions_answered += int(n)
        elif item == overall_items[campaign_id] and 1 <= code <= 5:
            counts.overall[code - 1] += int(n)
    return out


def _populations(campaign_ids: list[int], *, session: Session) -> dict[int, dict[str, int]]:
    """campaign id -> group -> roster households N_g, from the stored roster counts."""
    if not campaign_ids:
        return {}
    rows = session.exec(
        select(RosterCount.campaign_id, RosterCount.household_group, func.sum(RosterCount.n))
        .where(RosterCount.campaign_id.in_(campaign_ids))
        .group_by(RosterCount.campaign_id, RosterCount.household_group)).all()
    out: dict[int, dict[str, int]] = {}
    for campaign_id, group, n in rows:
        out.setdefault(campaign_id, {})[group] = int(n)
    return out
