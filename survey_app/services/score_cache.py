"""A per-process cache of scores documents, keyed by a data version read with one query.

:func:`scores.scores_document` over 100,000 responses costs seconds (it loads every
rating answer and runs the statistics for every cell); an evaluator reloading the dashboard
or a script polling the API should not pay that when nothing changed. Each call reads a
*data version* with one aggregate statement and reuses a document computed for the same
version and filters.

The data version of a campaign (:func:`data_version`):

- responses: count, max(id), max(updated_at), count complete, count excluded. A new response
  raises the count and max(id); a deletion lowers the count (or, combined with an insert,
  changes max(id)); every service that edits, excludes, restores, completes or soft-deletes
  a response sets ``updated_at = utcnow()`` (responses.replace_answers,
  quality_flags.set_exclusion, response_edits); status and exclusion counts are in the key
  as well, so a change that forgot ``updated_at`` but changed them is still seen;
- the roster (count and max id of the campaign's households: N_h), the questionnaire
  attachments and the campaign's projects (labels and breakdowns);
- the campaign row's own settings (indicator measure, target, points, rule), read from the
  already loaded object;
- the predecessor named in ``previous_campaign_id`` and its data version (the document's
  year-over-year section reads its responses); its newest change counts as this one's.

Why not a version counter bumped by the services: it needs a schema change and every
present and future writer (including a manual SQL fix) has to remember to bump it; the
aggregate sees whatever is committed.

The one gap of ``max(updated_at)`` is a race: an edit whose ``updated_at`` (t1) is older
than another edit's (t2) but which commits later does not move the maximum. A document is
therefore only *stored* when the newest change is older than
``SCORE_CACHE_SETTLE_SECONDS`` (``config.py``: 120 s, longer than any request may run:
gunicorn's timeout is 30 s). A transaction still open at that moment sets an ``updated_at``
inside the window, so when it commits the maximum moves and the key changes. During active
fieldwork (changes every few seconds) documents are computed fresh; after it (evaluation)
they are served from the cache.

Not in the key: renaming a community or project (names only; shown after the next data
change) — there is no cheap version for those tables.

The cache is a :class:`survey_app.caches.ProcessCache` (the policy of every per-process
cache is written there) in ``app.extensions`` (one per app object, so one per gunicorn
worker) and keeps :data:`MAX_ENTRIES` documents, least recently used first out. The
documents are frozen pydantic models, so a hit hands out the cached object itself: no caller
can change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import case, func
from sqlmodel import Session, select

from survey_app.caches import ProcessCache
from survey_app.models import (
    AuditEvent,
    Campaign,
    CampaignQuestionnaire,
    Household,
    Project,
    Response,
    ResponseStatus,
    as_utc,
    utcnow,
)
from survey_app.services.progress import progress_document
from survey_app.services.quality_flags import campaign_flags
from survey_app.services.score_filters import ScoreFilters
from survey_app.services.scores_model import IndicatorDocument, ProgressDocument, ScoresDocument

if TYPE_CHECKING:
    from survey_app.services.worker_indicators import WorkerScreen

#: Documents kept by default (``SCORE_CACHE_MAX_ENTRIES``); roll-ups read category counts, not
#: these documents (docs/SCALE.md).
MAX_ENTRIES = 32
EXTENSION_KEY = "score_cache"


def cache_of_app() -> ProcessCache:
    """The current app's cache of documents and figures (created on first use): no lifetime,
    the data version in every key keeps it correct (:mod:`survey_app.caches`)."""
    extensions = current_app.extensions
    cache = extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = extensions.setdefault(EXTENSION_KEY, ProcessCache(
            max_entries=int(current_app.config.get("SCORE_CACHE_MAX_ENTRIES", MAX_ENTRIES))))
    return cache


def _scalar(stmt):
    return stmt.scalar_subquery()


def data_version(campaign: Campaign, *, session: Session, with_previous: bool = True) -> tuple:
    """Everything the scores document of ``campaign`` depends on, in one aggregate query
    (and one more for its predecessor's when it names one and ``with_previous``)."""
    of_campaign = Response.campaign_id == campaign.id
    row = session.exec(
        select(
            func.count(Response.id),
            func.max(Response.id),
            func.max(Response.updated_at),
            func.sum(case((Response.status == ResponseStatus.COMPLETE, 1), else_=0)),
            func.sum(case((Response.excluded == True, 1), else_=0)),  # noqa: E712 - SQL
            _scalar(select(func.count(Household.id))
                    .where(Household.campaign_id == campaign.id)),
            # "+ 0": with max() alone PostgreSQL walks the primary key backwards until it
            # meets this campaign's households, through every later campaign's roster
            # (1.2 M rows, 230 ms, in benchmarks/bench_province.py); over the campaign's
            # index it reads its own 10,000.
            _scalar(select(func.max(Household.id + 0))
                    .where(Household.campaign_id == campaign.id)),
            _scalar(select(func.count(CampaignQuestionnaire.id))
                    .where(CampaignQuestionnaire.campaign_id == campaign.id)),
            _scalar(select(func.max(CampaignQuestionnaire.id))
                    .where(CampaignQuestionnaire.campaign_id == campaign.id)),
            _scalar(select(func.coalesce(func.sum(CampaignQuestionnaire.questionnaire_version_id),
                                         0))
                    .where(CampaignQuestionnaire.campaign_id == campaign.id)),
            _scalar(select(func.count(Project.id)).where(Project.campaign_id == campaign.id)),
            _scalar(select(func.max(Project.id)).where(Project.campaign_id == campaign.id)),
        ).where(of_campaign)
    ).one()
    count, max_id, max_updated, complete, excluded, *others = row
    settings = data_version_settings(campaign)
    newest = as_utc(max_updated)
    previous = _previous_version(campaign, session=session) if with_previous else None
    if previous is not None and previous[3] is not None:
        newest = max(newest, previous[3]) if newest is not None else previous[3]
    return (int(count or 0), max_id, newest, int(complete or 0),
            int(excluded or 0), *others, settings, previous)


def data_version_settings(campaign: Campaign) -> tuple:
    """The campaign row's own settings its scores document depends on."""
    return (campaign.indicator_measure, campaign.indicator_target,
            campaign.indicator_points, campaign.indicator_rule,
            repr(sorted((campaign.indicator_rule_params or {}).items())),
            campaign.title, campaign.slug, campaign.year, campaign.district,
            campaign.previous_campaign_id)


def _previous_version(campaign: Campaign, *, session: Session) -> tuple | None:
    """The data version of the campaign's predecessor (its year-over-year comparison)."""
    if campaign.previous_campaign_id is None:
        return None
    previous = session.get(Campaign, campaign.previous_campaign_id)
    if previous is None:
        return None
    # The predecessor's own predecessor does not enter this campaign's document.
    return (previous.id, *data_version(previous, session=session, with_previous=False))




def _settled(max_updated: datetime | None, settle_seconds: float) -> bool:
    return max_updated is None or max_updated <= utcnow() - timedelta(seconds=settle_seconds)


def _database(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _cached(key: tuple, newest: datetime | None, compute):
    """``compute()`` served from the app's cache under ``key``; stored only when the
    ``newest`` change it depends on is settled (see the module docstring)."""
    cache = cache_of_app()
    value = cache.get(key)
    if value is not None:
        return value  # frozen models and rendered figures: shared, never changed
    value = compute()
    if _settled(newest, float(current_app.config["SCORE_CACHE_SETTLE_SECONDS"])):
        cache.put(key, value)
    return value


def _scores():
    # The scores (numpy, the statistics) are imported when a document is first computed,
    # not with this module: the evaluate and API blueprints import it, and a worker that
    # serves only residents and paper entry must not load them (start-up time and worker
    # memory, docs/BENCHMARKS.md "Start-up and memory").
    from survey_app.services import scores

    return scores


def cached_scores_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                           session: Session, version: tuple | None = None) -> ScoresDocument:
    """:func:`scores.scores_document`, served from the cache while the data version holds.

    ``version``: the campaign's :func:`data_version` when the caller already read it in this
    request (the dashboard needs it for several cached parts).
    """
    filters = filters or ScoreFilters()
    version = version or data_version(campaign, session=session)
    key = (_database(session), campaign.id, filters, version)
    return _cached(key, version[2],
                   lambda: _scores().scores_document(campaign, filters, session=session))


def cached_indicator_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                              session: Session,
                              version: tuple | None = None) -> IndicatorDocument:
    """:func:`scores.indicator_document`: taken from the cached full document of the same
    filters and data version when there is one, else computed and cached on its own."""
    filters = filters or ScoreFilters()
    version = version or data_version(campaign, session=session)
    key = (_database(session), campaign.id, filters, version)
    full = cache_of_app().get(key)
    if full is not None:
        return IndicatorDocument(n_respondents=full.n_respondents, indicator=full.indicator)
    return _cached((*key, "indicator"), version[2],
                   lambda: _scores().indicator_document(campaign, filters, session=session))


def _audit_version(campaign: Campaign, *, session: Session) -> tuple:
    # Households have no updated_at, and a field worker's disposition (refused, not at
    # home) changes the progress block without touching any response. Every service that
    # changes a campaign's data writes an audit event of that campaign in the same
    # transaction, so the campaign's newest event (an index lookup, whatever the roster
    # size) moves with any such change. Logins and other campaign-less events do not count.
    row = session.exec(
        select(AuditEvent.id, AuditEvent.at).where(AuditEvent.campaign_id == campaign.id)
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    return tuple(row) if row else (None, None)


def cached_progress_document(campaign: Campaign, *, session: Session,
                             version: tuple | None = None) -> ProgressDocument:
    """:func:`progress.progress_document`, cached by the data version, the campaign's newest
    audit event and its status and dates (stored once both the newest response change and
    the newest audit event are settled)."""
    version = version or data_version(campaign, session=session)
    audit_id, audit_at = _audit_version(campaign, session=session)
    key = (_database(session), campaign.id, "progress", version, audit_id, audit_at,
           (campaign.status, campaign.opens_on, campaign.closes_on))
    newest = max((t for t in (version[2], as_utc(audit_at)) if t is not None), default=None)
    return _cached(key, newest, lambda: progress_document(campaign, session=session))


def cached_figures(campaign: Campaign, filters: ScoreFilters, name: tuple, version: tuple,
                   render, *, session: Session):
    """Rendered charts of a scores document (pure functions of the document and ``name``),
    cached under the same data version as the document."""
    key = (_database(session), campaign.id, "figures", filters, version, name)
    return _cached(key, version[2], render)


def cached_campaign_flags(campaign: Campaign, *, session: Session) -> Mapping[int, tuple]:
    """:func:`quality_flags.campaign_flags`, cached by the data version: an evaluator paging
    through the quality page after a flood does not recompute them for every page.

    The flags read only response columns that change with a new row or with ``updated_at``
    (every service that edits a response sets it; a bulk decision too), so the data version
    holds for them. Read-only: the cached mapping is shared.
    """
    version = data_version(campaign, session=session)
    key = (_database(session), campaign.id, "quality_flags", version)
    return _cached(key, version[2], lambda: MappingProxyType(
        campaign_flags(campaign, session=session)))


def cached_worker_screen(campaign: Campaign, *, session: Session) -> WorkerScreen:
    """:func:`worker_indicators.worker_screen` (a permutation test per worker: seconds for
    a campaign of 20,000 paper forms), cached like the progress document: by the data
    version and the campaign's newest audit event, which every paper entry writes in its
    own transaction (an entry awaiting its second round changes no response row)."""
    version = data_version(campaign, session=session)
    audit_id, audit_at = _audit_version(campaign, session=session)
    key = (_database(session), campaign.id, "worker_screen", version, audit_id, audit_at)
    newest = max((t for t in (version[2], as_utc(audit_at)) if t is not None), default=None)
    # numpy and the permutation test are imported when the page is computed (see _scores).
    from survey_app.services.worker_indicators import worker_screen

    return _cached(key, newest, lambda: worker_screen(campaign, session=session))


#: Roll-up documents kept per process (a few regions × years; each a few hundred KB).
ROLLUP_ENTRIES = 64
ROLLUP_EXTENSION_KEY = "rollup_cache"


def rollup_cache_of_app() -> ProcessCache:
    """The current app's cache of roll-up documents (created on first use): no lifetime,
    keyed by :func:`region_version` (:mod:`survey_app.caches`)."""
    extensions = current_app.extensions
    cache = extensions.get(ROLLUP_EXTENSION_KEY)
    if cache is None:
        cache = extensions.setdefault(ROLLUP_EXTENSION_KEY,
                                      ProcessCache(max_entries=ROLLUP_ENTRIES))
    return cache


def region_version(campaigns: list[Campaign], *, session: Session) -> tuple[tuple, datetime | None]:
    """What a roll-up over ``campaigns`` depends on, in two grouped queries, and its newest
    change.

    Per campaign: its settings (as in :func:`data_version`), the response aggregates of
    :func:`data_version` (one GROUP BY over the campaigns' responses: ~20 ms for 85,000)
    and its newest audit event. The roster, projects and questionnaire attachments are
    not counted row by row here: a province's 1.2 M households cost 240 ms to count, more
    than the whole cached request may take. They enter through the newest audit event
    instead, as in :func:`cached_progress_document`: every service that imports, replaces
    or purges a roster, draws a sample or attaches a questionnaire writes an event of the
    campaign in the same transaction. A roster edited by hand in SQL, with no event, is
    seen by the roll-up after the campaign's next change (each county's own scores
    document sees it at once: :func:`data_version` counts the households).
    """
    ids = [c.id for c in campaigns]
    responses = {row[0]: tuple(row[1:]) for row in session.exec(
        select(Response.campaign_id, func.count(Response.id), func.max(Response.id),
               func.max(Response.updated_at),
               func.sum(case((Response.status == ResponseStatus.COMPLETE, 1), else_=0)),
               func.sum(case((Response.excluded == True, 1), else_=0)))  # noqa: E712 - SQL
        .where(Response.campaign_id.in_(ids)).group_by(Response.campaign_id)).all()} \
        if ids else {}
    events = {row[0]: (row[1], row[2]) for row in session.exec(
        select(AuditEvent.campaign_id, func.max(AuditEvent.id), func.max(AuditEvent.at))
        .where(AuditEvent.campaign_id.in_(ids)).group_by(AuditEvent.campaign_id)).all()} \
        if ids else {}
    newest = max((as_utc(t) for t in [*(r[2] for r in responses.values()),
                                      *(e[1] for e in events.values())] if t is not None),
                 default=None)
    version = tuple((c.id, c.unit_id, c.year, c.status, c.previous_campaign_id,
                     *data_version_settings(c), responses.get(c.id), events.get(c.id))
                    for c in sorted(campaigns, key=lambda c: c.id))
    return version, newest


def cached_rollup(key: tuple, campaigns: list[Campaign], compute, *, session: Session):
    """``compute()`` (a roll-up document over ``campaigns``) served from the roll-up cache
    while :func:`region_version` holds; ``key`` names the region, year and headings."""
    version, newest = region_version(campaigns, session=session)
    full_key = (_database(session), *key, version)
    cache = rollup_cache_of_app()
    value = cache.get(full_key)
    if value is not None:
        return value  # a frozen document: shared, never changed
    value = compute()
    if _settled(newest, float(current_app.config["SCORE_CACHE_SETTLE_SECONDS"])):
        cache.put(full_key, value)
    return value
