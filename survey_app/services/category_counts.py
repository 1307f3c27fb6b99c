"""Per-cell category counts of each campaign's counted responses (issue 23 item 4).

``CategoryCount`` rows (:mod:`survey_app.models.counts`) hold, per campaign × community ×
household group × mode × project × rating item × code, how many counted responses
(:func:`counted_data.counted_query` with the default filters) gave that code, plus each
cell's number of responses (the pseudo-item ``""``) and of those with a valid answer to a
dimension item (``"*"``); ``RosterCount`` rows the roster
households per group and community (N_h). A city or province roll-up reads them
for its 120 campaigns in one grouped query (:mod:`survey_app.services.rollup_counts`)
instead of building every county's scores document.

Freshness without touching the resident's path: triggers append a ``CountChange`` row for
every change to a campaign's counted data (migration 0028), and :func:`refresh` recomputes
the counts of the campaigns with ledger rows exactly (a whole campaign: ~700 responses, a
few milliseconds) and deletes the ledger rows it read. The job worker runs it for every
pending campaign each relay period (``survey-app jobs worker``; ``survey-app counts
refresh`` from cron where no worker runs). Readers never take stale counts: a roll-up reads
the stored counts only of campaigns without ledger rows and recomputes the others' in
memory (:func:`survey_app.services.rollup_counts.region_strata`); GET requests write
nothing. The ledger rows are read *before* the responses: a change committed after that
read keeps its ledger row and is refreshed by the next pass. Two refreshes of one campaign
are serialised by a transaction-scoped advisory lock on PostgreSQL (SQLite has one writer
at a time anyway).

``survey-app counts check`` compares the stored counts of every up-to-date campaign with a
recomputation from the response rows (:func:`check`); ``survey-app counts rebuild``
recomputes them whatever the ledger says (:func:`refresh` with ``force``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, insert, text
from sqlmodel import Session, select

from survey_app.models import (
    Campaign,
    CategoryCount,
    CountChange,
    Household,
    Response,
    RosterCount,
)
from survey_app.services import pair_sums, respondent_sums
from survey_app.services.answer_copies import rating_item_ids
from survey_app.services.counted_data import (
    Factor,
    _version_questionnaire,
    campaign_questionnaires,
    counted_query,
    decode_rating_codes,
    questionnaire_layout,
)
from survey_app.services.score_filters import ScoreFilters, ScoresError

#: The pseudo-item whose code-0 count is the cell's number of counted responses.
RESPONSES = ""
#: The pseudo-item whose code-0 count is the cell's responses with a valid answer (1..5) to
#: at least one item of the campaign's dimensions (the scores compute a cell only then).
DIMENSIONS_ANSWERED = "*"
#: The stored code of "no answer" (the decoded matrix's NaN).
NO_ANSWER_CODE = 0
#: First key of PostgreSQL's two-key advisory locks taken by a refresh ("cnts").
_LOCK_SPACE = 0x636E7473

#: Ledger rows deleted per statement (bound parameters are limited: SQLite 32,766).
_CHUNK = 5000


def computed_counts(campaign: Campaign, *, session: Session) -> Counter:
    """The campaign's category counts recomputed from its counted response rows: (community
    id, group, mode, project id, item, code) -> n (ids 0: none)."""
    return computed(campaign, session=session)[0]


def computed(campaign: Campaign, *, session: Session) -> tuple[Counter, dict]:
    """The campaign's category counts and its dimensions' item-pair sums
    (:mod:`survey_app.services.pair_sums`), recomputed from its counted response rows."""
    stmt = counted_query(campaign, ScoreFilters(), codes=False).order_by(None)
    rows = session.connection().execute(stmt.with_only_columns(
        func.coalesce(Household.community_id, 0), Response.household_group, Response.mode,
        func.coalesce(Household.project_id, 0), Response.questionnaire_version_id,
        Response.rating_codes)).all()
    counts: Counter = Counter()
    sums: dict = {}
    by_version: dict[int, list] = {}
    for community, group, mode, project, version, codes in rows:
        by_version.setdefault(version, []).append(
            ((int(community), group, mode, int(project)), codes))
    dimensions = _dimensions(campaign, session=session)
    dimension_items = {item for items in dimensions.values() for item in items}
    pairs = pair_sums.dimension_pairs(dimensions)
    for version, entries in by_version.items():
        items = rating_item_ids(_version_questionnaire(version, session=session))
        cells = Factor.of([cell for cell, _codes in entries])
        matrix = decode_rating_codes([codes for _cell, codes in entries], len(items))
        _count_version(counts, items, cells, matrix, dimension_items)
        pair_sums.add_version(sums, items, cells, matrix, pairs)
    return counts, sums


def _dimensions(campaign: Campaign, *, session: Session) -> dict[str, list[str]]:
    """The campaign's dimensions' rating items (its attached questionnaires' layout; none
    without a usable questionnaire: such a campaign has no scores)."""
    questionnaires = campaign_questionnaires(campaign, session=session)
    if not questionnaires:
        return {}
    try:
        _items, _overall, dimensions, _labels = questionnaire_layout(questionnaires)
    except ScoresError:
        return {}
    return dimensions


def _count_version(counts: Counter, items: list[str], cells: Factor, matrix: np.ndarray,
                   dimension_items: set[str]) -> None:
    """Add the counts of the responses of one questionnaire version (``cells`` their cells,
    ``matrix`` their rating codes decoded as the scores decode them)."""
    codes = np.where(np.isnan(matrix), NO_ANSWER_CODE, matrix).astype(np.int64)
    width = 16  # codes are 0..9
    for cell, n in enumerate(np.bincount(cells.codes, minlength=len(cells.labels)).tolist()):
        if n:
            counts[(*cells.labels[cell], RESPONSES, NO_ANSWER_CODE)] += n
    columns = [j for j, item in enumerate(items) if item in dimension_items]
    on_scale = (codes[:, columns] >= 1) & (codes[:, columns] <= 5)
    answered = np.bincount(cells.codes[on_scale.any(axis=1)], minlength=len(cells.labels))
    for cell, n in enumerate(answered.tolist()):
        if n:
            counts[(*cells.labels[cell], DIMENSIONS_ANSWERED, NO_ANSWER_CODE)] += n
    for j, item in enumerate(items):
        keys, ns = np.unique(cells.codes * width + codes[:, j], return_counts=True)
        for key, n in zip(keys.tolist(), ns.tolist(), strict=True):
            counts[(*cells.labels[key // width], item, key % width)] += n


def computed_roster(campaign_id: int, *, session: Session) -> Counter:
    """(group, community id) -> roster households of the campaign, from its household rows."""
    rows = session.exec(
        select(Household.household_group, Household.community_id, func.count())
        .where(Household.campaign_id == campaign_id)
        .group_by(Household.household_group, Household.community_id)).all()
    out: Counter = Counter()
    for group, community, n in rows:
        out[(group, int(community or 0))] += int(n)
    return out


def stored_roster(campaign_id: int, *, session: Session) -> Counter:
    """The campaign's RosterCount rows keyed like :func:`computed_roster`."""
    rows = session.exec(select(RosterCount.household_group, RosterCount.community_id,
                               RosterCount.n)
                        .where(RosterCount.campaign_id == campaign_id)).all()
    return Counter({(group, community): int(n) for group, community, n in rows})


def stored_counts(campaign_id: int, *, session: Session) -> Counter:
    """The campaign's CategoryCount rows as a Counter keyed like :func:`computed_counts`."""
    rows = session.exec(select(CategoryCount.community_id, CategoryCount.household_group,
                               CategoryCount.mode, CategoryCount.project_id, CategoryCount.item,
                               CategoryCount.code, CategoryCount.n)
                        .where(CategoryCount.campaign_id == campaign_id)).all()
    return Counter({tuple(row[:6]): int(row[6]) for row in rows})


def pending(campaign_ids: Iterable[int], *, session: Session) -> set[int]:
    """The campaigns among ``campaign_ids`` with changes not yet in their counts."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return set()
    return set(session.exec(select(CountChange.campaign_id).distinct()
                            .where(CountChange.campaign_id.in_(ids))).all())


def refresh(campaigns: Sequence[Campaign], *, session: Session,
            force: bool = False) -> list[int]:
    """Recompute the counts of those ``campaigns`` with ledger rows (all of them with
    ``force``), delete the ledger rows used, flush; returns the ids refreshed."""
    by_id = {c.id: c for c in campaigns}
    stale = sorted(by_id if force else pending(by_id, session=session))
    for campaign_id in stale:  # in id order: two refreshes never wait on each other in a cycle
        _lock(campaign_id, session=session)
    done = []
    for campaign_id in stale:
        used = session.exec(select(CountChange.id)
                            .where(CountChange.campaign_id == campaign_id)).all()
        if not used and not force:
            continue  # another transaction refreshed it while this one waited
        counts, sums = computed(by_id[campaign_id], session=session)
        _replace(campaign_id, counts, computed_roster(campaign_id, session=session),
                 session=session)
        pair_sums.replace(campaign_id, sums, session=session)
        respondent_sums.refresh(by_id[campaign_id], session=session)
        for start in range(0, len(used), _CHUNK):
            session.execute(delete(CountChange).where(
                CountChange.id.in_(used[start:start + _CHUNK])))
        done.append(campaign_id)
    session.flush()
    return done


def refresh_pending(*, session: Session) -> list[int]:
    """:func:`refresh` every campaign with ledger rows (the job worker's periodic pass and
    ``survey-app counts refresh``); returns the ids refreshed."""
    ids = session.exec(select(CountChange.campaign_id).distinct()).all()
    if not ids:
        return []
    return refresh(session.exec(select(Campaign).where(Campaign.id.in_(ids))).all(),
                   session=session)


def _lock(campaign_id: int, *, session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :id)"),
                        {"space": _LOCK_SPACE, "id": campaign_id})


def _replace(campaign_id: int, counts: Counter, roster: Counter, *,
             session: Session) -> None:
    session.execute(delete(CategoryCount).where(CategoryCount.campaign_id == campaign_id))
    session.execute(delete(RosterCount).where(RosterCount.campaign_id == campaign_id))
    rows = [{"campaign_id": campaign_id, "community_id": community, "household_group": group,
             "mode": mode, "project_id": project, "item": item, "code": code, "n": n}
            for (community, group, mode, project, item, code), n in counts.items() if n]
    if rows:
        session.execute(insert(CategoryCount), rows)
    households = [{"campaign_id": campaign_id, "household_group": group,
                   "community_id": community, "n": n}
                  for (group, community), n in roster.items() if n]
    if households:
        session.execute(insert(RosterCount), households)


@dataclass(frozen=True)
class CountsCheck:
    """The result of :func:`check`: ``differences`` (campaign slug, cell, stored, computed)
    of the up-to-date campaigns, and the campaigns ``pending`` a refresh (not compared)."""

    campaigns: int
    differences: list[tuple[str, str, int | str | None, int | str | None]]
    pending: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


def check(campaigns: Sequence[Campaign], *, session: Session) -> CountsCheck:
    """Compare the stored counts of every campaign without pending changes with a full
    recomputation from its response and household rows."""
    stale = pending([c.id for c in campaigns], session=session)
    differences = []
    for campaign in campaigns:
        if campaign.id in stale:
            continue
        counts, sums = computed(campaign, session=session)
        pairs = ((stored_counts(campaign.id, session=session), counts, _answer_cell),
                 (stored_roster(campaign.id, session=session),
                  computed_roster(campaign.id, session=session), _roster_cell),
                 *_pair_columns(pair_sums.stored(campaign.id, session=session), sums))
        for stored, recomputed, name in pairs:
            for key in sorted(set(stored) | set(recomputed), key=repr):
                if stored[key] != recomputed[key]:
                    differences.append((campaign.slug, name(key), stored[key],
                                        recomputed[key]))
        differences += [(campaign.slug, *row)
                        for row in respondent_sums.differences(campaign, session=session)]
    return CountsCheck(campaigns=len(campaigns), differences=differences,
                       pending=sorted(c.slug for c in campaigns if c.id in stale))


def _pair_columns(stored: dict, recomputed: dict) -> list:
    """(stored, recomputed, name) per pair-sum column, as Counters (a missing pair: 0)."""
    out = []
    for j, column in enumerate(pair_sums.SUM_COLUMNS):
        def name(key: tuple, column: str = column) -> str:
            community, group, mode, project, a, b = key
            return (f"community {community} group {group} mode {mode} project {project} "
                    f"pair {a}×{b} {column}")
        out.append((Counter({k: v[j] for k, v in stored.items()}),
                    Counter({k: v[j] for k, v in recomputed.items()}), name))
    return out


def _answer_cell(key: tuple) -> str:
    community, group, mode, project, item, code = key
    item = {RESPONSES: "(responses)", DIMENSIONS_ANSWERED: "(dimensions answered)"}.get(
        item, item)
    return (f"community {community} group {group} mode {mode} project {project} "
            f"item {item} code {code}")


def _roster_cell(key: tuple) -> str:
    group, community = key
    return f"roster households: community {community} group {group}"
