"""The scores document: every number the evaluator sees, computed once by ``analysis``.

The dashboard, the JSON API, the ``survey-app scores`` command, the summary workbook and the
Word report all render :func:`scores_document`, so a number can only differ between them in
formatting.

Counted responses are ``status == "complete"`` and not excluded (paper responses exist only
once verified). Household groups are the strata: N_h is the number of roster households of
group h (within the project/community when that filter is set); pooled values are weighted
N_h/N (METHODS.md section 4). Groups (cells) with fewer than :data:`MIN_CELL` respondents
show counts only.

The filters and constants are :mod:`~survey_app.services.score_filters`, the read of the
counted responses :mod:`~survey_app.services.counted_data`, field progress and response
rates :mod:`~survey_app.services.progress`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func
from sqlmodel import Session, select

import analysis
from survey_app.models import Campaign, Community, Household, Project
from survey_app.services import campaign_years, nonresponse, year_over_year
from survey_app.services.counted_data import gc_paused, unverified_count
from survey_app.services.score_filters import (
    GROUP_LABELS,
    MIN_CELL,
    NA_CODE,
    RATE_DECIMALS,
    SCORE_DECIMALS,
    STAT_DECIMALS,
    ScoreFilters,
    ScoresError,
)
from survey_app.services.score_filters import rounded as _r
from survey_app.services.score_sources import open_source
from survey_app.services.scores_model import (
    AppliedFilters,
    BreakdownCell,
    BreakdownRow,
    CampaignHeading,
    Cell,
    CompositeIndex,
    Dimension,
    DimensionCell,
    Driver,
    FullCell,
    ImportancePerformance,
    Indicator,
    IndicatorDocument,
    IpaPoint,
    ItemCell,
    OptionCounts,
    RatingItem,
    ScoresDocument,
    Stratum,
    SuppressedBreakdownCell,
    SuppressedCell,
)

CONVENTIONS = analysis.scores_conventions(
    counted_responses="status complete and not excluded by an evaluator",
    snapshot="sha256 over the sorted lines 'response_id:payload_hash' of the counted responses",
    min_cell=MIN_CELL, rate_decimals=RATE_DECIMALS, score_decimals=SCORE_DECIMALS,
    na_code=NA_CODE)


def populations(campaign: Campaign, *, session: Session, project: str | None = None,
                community: str | None = None) -> dict[str, int]:
    """Roster households per group (N_h), within a project and/or community if given."""
    return roster_counts(campaign, session=session).populations(project=project,
                                                                community=community)


@dataclass(frozen=True)
class RosterCounts:
    """Roster households of a campaign counted by (group, project code, community code),
    and the sampled ones by (group, project id, community id, count) for the response
    rates (:func:`survey_app.services.nonresponse.response_rates`)."""

    counts: dict[tuple[str, str | None, str | None], int]
    sampled: tuple[tuple[str, int | None, int | None, int], ...] | None = None

    def populations(self, *, project: str | None = None,
                    community: str | None = None) -> dict[str, int]:
        """N_h per group, within a project and/or community if given."""
        out: dict[str, int] = {}
        for (group, project_code, community_code), count in self.counts.items():
            if (project and project_code != project) or (
                    community and community_code != community):
                continue
            out[group] = out.get(group, 0) + count
        return out


def roster_counts(campaign: Campaign, *, session: Session) -> RosterCounts:
    """The N_h of every cell of the scores document from one grouped query."""
    # Grouped by the ids (index ix_household_sampled_cells covers it), then named: grouping
    # by the joined codes made SQLite sort every household row. Grouped by ``sampled`` too,
    # so the response rates' sampled households come from the same read of the roster
    # (a second grouped read of 100,000 households cost ~10 ms of server CPU).
    cells = session.exec(
        select(Household.sampled, Household.household_group, Household.project_id,
               Household.community_id, func.count())
        .where(Household.campaign_id == campaign.id)
        .group_by(Household.sampled, Household.household_group, Household.project_id,
                  Household.community_id)).all()
    project_codes = dict(session.exec(select(Project.id, Project.code)
                                      .where(Project.campaign_id == campaign.id)).all())
    community_codes = dict(session.exec(select(Community.id, Community.code)).all())
    counts: dict[tuple[str, str | None, str | None], int] = {}
    sampled = []
    for is_sampled, group, project_id, community_id, n in cells:
        key = (group, project_codes.get(project_id), community_codes.get(community_id))
        counts[key] = counts.get(key, 0) + int(n)
        if is_sampled:
            sampled.append((group, project_id, community_id, int(n)))
    return RosterCounts(counts, tuple(sampled))


# ---------------------------------------------------------------- cells

def _option_counts(summary) -> OptionCounts:
    """n5..n1, n9 and missing of an item summary (its counts are codes 1..5)."""
    n1, n2, n3, n4, n5 = (int(c) for c in summary.counts)
    return OptionCounts(n5=n5, n4=n4, n3=n3, n2=n2, n1=n1, n9=summary.n_na,
                        missing=summary.n_missing)


def _item_cell(estimates, summary, respondents: int,
               weight_groups: list[str] | None = None) -> ItemCell:
    """Measures of one item in one cell from the reported estimates of analysis;
    ``weight_groups`` the groups that entered the item's weights."""
    counts = {"respondents": respondents, "n_valid": summary.n_valid, "n_na": summary.n_na,
              "n_missing": summary.n_missing,
              "na_share": _r(summary.na_share, RATE_DECIMALS),
              "counts": _option_counts(summary), "weight_groups": weight_groups or [],
              "suppressed": False}
    if summary.n_valid == 0 or estimates is None:  # no effective_n: left out, not null
        return ItemCell(**counts, rate=None, rate_ci=None, score=None, score_ci=None,
                        index=None, index_ci=None, rate_se=None, index_se=None)
    rate, index, score = estimates.rate, estimates.index, estimates.score
    return ItemCell(
        **counts,
        rate=_r(rate.estimate, RATE_DECIMALS),
        rate_ci=[_r(rate.interval.low, RATE_DECIMALS), _r(rate.interval.high, RATE_DECIMALS)],
        rate_se=_r(rate.se, STAT_DECIMALS + 2),
        effective_n=_r(estimates.effective_n, 2),
        score=_r(score.estimate, SCORE_DECIMALS),
        score_ci=[_r(score.interval.low, SCORE_DECIMALS),
                  _r(score.interval.high, SCORE_DECIMALS)],
        index=_r(index.estimate, SCORE_DECIMALS),
        index_ci=[_r(index.interval.low, SCORE_DECIMALS),
                  _r(index.interval.high, SCORE_DECIMALS)],
        index_se=_r(index.se, STAT_DECIMALS + 2),
    )


def _suppressed(respondents: int) -> SuppressedCell:
    return SuppressedCell(respondents=respondents, suppressed=True)


def _cell_with_statistics(source, selector, pops: dict[str, int], *,
                          drivers: bool = False, raking=None):
    """The cell's document, the campaign_statistics it came from and the design-weighted
    ones (the same unless raked; both None if suppressed)."""
    respondents = source.respondents(selector)
    if respondents < MIN_CELL:
        return _suppressed(respondents), None, None
    respondents, stats, design, summary, group_of = source.cell(selector, pops,
                                                                drivers=drivers,
                                                                raking=raking)
    cell = cell_document(respondents, pops, stats, source.item_ids, summary, group_of)
    return cell, stats, design


def cell_document(respondents: int, pops: dict[str, int], stats, item_ids: list[str],
                  summary, group_of) -> FullCell:
    """A cell of at least MIN_CELL respondents laid out from its statistics (None: only
    counts); ``summary(j)`` the unweighted summary of item j over the cell (for items the
    statistics left out), ``group_of`` the household group of a stratum label."""
    by_name = {} if stats is None else {it.name: it for it in stats.items}
    items = {}
    for j, qid in enumerate(item_ids):
        it = by_name.get(qid)
        if it is None:
            items[qid] = _item_cell(None, summary(j), respondents)
        else:
            items[qid] = _item_cell(it.estimates, it.summary, respondents,
                                    sorted(group_of(st.label) for st in it.rate.strata))
    dimensions, composite = {}, None
    if stats is not None:
        dimensions = _dimension_cells(stats, items)
        ci = stats.composite_interval
        composite = CompositeIndex(estimate=_r(stats.composite.overall, SCORE_DECIMALS),
                                   ci=(_r(ci.low, SCORE_DECIMALS), _r(ci.high, SCORE_DECIMALS)),
                                   se=_r(stats.composite_se, STAT_DECIMALS + 2))
    return FullCell(respondents=respondents, suppressed=False,
                    population={g: int(p) for g, p in sorted(pops.items())}, items=items,
                    dimensions=dimensions, composite_index=composite)


def _dimension_cells(stats, item_cells: dict[str, ItemCell]) -> dict[str, DimensionCell]:
    """Each dimension's index and rate in one cell, from its items' statistics."""
    out = {}
    for d in stats.dimensions:
        names = [stats.items[i].name for i in d.items]
        extra = {}
        if len(d.items) == 1:  # a one-item dimension carries its item's intervals
            item = item_cells[names[0]]
            extra = {k: getattr(item, k) for k in
                     ("rate_ci", "index_ci", "score", "score_ci", "n_valid")}
        out[d.name] = DimensionCell(
            index=_r(d.index, SCORE_DECIMALS), rate=_r(d.rate, RATE_DECIMALS), items=names,
            index_se=_r(d.index_se, STAT_DECIMALS + 2), rate_se=_r(d.rate_se, STAT_DECIMALS + 2),
            **extra)
    return out


# ---------------------------------------------------------------- the document

def _indicator(campaign: Campaign, estimates) -> Indicator:
    measure = campaign.indicator_measure or "rate"
    if measure not in ("rate", "index", "score"):
        raise ScoresError(f"unknown indicator measure {measure!r}")
    result = analysis.indicator_from_estimates(estimates, measure, campaign.indicator_target,
                                               campaign.indicator_points,
                                               indicator_rule(campaign))
    decimals = RATE_DECIMALS if measure == "rate" else SCORE_DECIMALS
    return Indicator(measure=measure, actual=_r(result.actual, decimals),
                     se=_r(result.se, STAT_DECIMALS + 2),
                     target=result.target, points=result.points,
                     points_earned=_r(result.points_earned, SCORE_DECIMALS),
                     probability_meets_target=_r(result.probability_meets_target,
                                                 STAT_DECIMALS),
                     rule=result.rule, convention=result.convention)


def indicator_rule(campaign: Campaign):
    """The analysis rule object for the campaign's indicator settings."""
    params = campaign.indicator_rule_params or {}
    if campaign.indicator_rule in (None, "", "proportional"):
        return analysis.ProportionalRule()
    if campaign.indicator_rule == "stepwise":
        return analysis.StepwiseRule(
            deduction_per_point=float(params.get("deduction_per_point", 0.5)),
            floor=float(params.get("floor", 0.0)),
            whole_points=bool(params.get("whole_points", False)))
    if campaign.indicator_rule == "bands":
        return analysis.band_rule([(float(t), float(p)) for t, p in params.get("bands", [])])
    raise ScoresError(f"unknown indicator rule {campaign.indicator_rule!r}")


def _named(code: str, label: str, cell: Cell) -> BreakdownRow:
    """A group, project or community row: the cell under its code and label."""
    if cell.suppressed:
        return SuppressedBreakdownCell(code=code, label=label, respondents=cell.respondents,
                                       suppressed=True)
    return BreakdownCell(code=code, label=label,
                         **{name: getattr(cell, name) for name in FullCell.model_fields})


def _breakdown(source, key: str, names: dict[str, str],
               roster: RosterCounts, raking=None) -> list[BreakdownRow]:
    rows = []
    for code in source.values(key):
        pops = (roster.populations(project=code) if key == "projects"
                else roster.populations(community=code))
        cell = _cell_with_statistics(source, (key, code), pops, raking=raking)[0]
        rows.append(_named(code, names.get(code, code), cell))
    return rows


def scores_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                    session: Session, rows: bool = False) -> ScoresDocument:
    """All scores of ``campaign`` under ``filters`` as one immutable document, with its
    headline figures against its predecessor's (:mod:`~survey_app.services.year_over_year`).

    From the stored sums where they can give it (:mod:`~survey_app.services.score_sources`),
    else (or with ``rows``) from the counted response rows: the same document.
    """
    filters = filters or ScoreFilters()
    with gc_paused():
        doc = _scores_document(campaign, filters, session=session, rows=rows)
        previous = campaign_years.previous_campaign(campaign, session=session)
        if previous is None:
            return doc
        return year_over_year.compared(
            doc, campaign, previous,
            headline_cells(previous, filters, session=session, rows=rows), session=session)


def headline_cells(campaign: Campaign, filters: ScoreFilters, *, session: Session,
                   rows: bool = False):
    """(respondents, pooled cell, group rows) of ``campaign``: the part of its document a
    following year compares with."""
    source = open_source(campaign, filters, session=session, rows=rows)
    roster = roster_counts(campaign, session=session)
    pops = roster.populations(project=filters.project, community=filters.community)
    raking = (source.raking(roster.counts, pops, filters)
              if filters.weighting == "raked" else None)
    pooled = _cell_with_statistics(source, None, pops, raking=raking)[0]
    return source.n, pooled, _strata_and_groups(source, pops, raking)[1]


def _scores_document(campaign: Campaign, filters: ScoreFilters, *, session: Session,
                     rows: bool = False) -> ScoresDocument:
    source = open_source(campaign, filters, session=session, rows=rows)
    roster = roster_counts(campaign, session=session)
    pops = roster.populations(project=filters.project, community=filters.community)
    raking = source.raking(roster.counts, pops, filters)
    used = raking if filters.weighting == "raked" else None
    pooled, stats, design = _cell_with_statistics(source, None, pops, drivers=True,
                                                  raking=used)
    strata, groups = _strata_and_groups(source, pops, used)
    return ScoresDocument(
        campaign=CampaignHeading(slug=campaign.slug, title=campaign.title, year=campaign.year,
                                 district=campaign.district),
        filters=AppliedFilters(**asdict(filters)),
        snapshot=source.snapshot,
        n_respondents=source.n,
        unverified=unverified_count(campaign, filters, session=session),
        conventions=nonresponse.conventions_for(CONVENTIONS, filters.weighting),
        items=[RatingItem(id=qid, label=source.labels[qid],
                          dimension=_dimension_of(source.dimensions, qid),
                          overall=qid == source.overall_item) for qid in source.item_ids],
        dimensions=[Dimension(id=d, label=source.labels["dim:" + d], items=items)
                    for d, items in source.dimensions.items()],
        overall_item=source.overall_item,
        strata=strata,
        pooled=pooled,
        groups=groups,
        projects=_breakdown(source, "projects", _project_names(campaign, session), roster,
                            used),
        communities=_breakdown(source, "communities", _community_names(session), roster, used),
        **_pooled_analyses(campaign, source, stats),
        nonresponse=_nonresponse(campaign, source, pops, raking, (stats, design), filters,
                                 session, roster.sampled),
    )


def _nonresponse(campaign, source, pops, raking, pooled, filters, session, sampled=None):
    """The non-response section: the pooled cell's headline figures under both weightings
    (``pooled`` its statistics and design-weighted statistics; None below MIN_CELL
    respondents; ``sampled`` RosterCounts.sampled). Only the raked point estimates are
    computed for a design-weighted document: the section shows no SE of the other
    weighting."""
    if source.n < MIN_CELL:
        return None
    stats, design = pooled
    raked = stats
    if filters.weighting != "raked":
        raked = source.raked_headline(stats, pops, raking)
    return nonresponse.nonresponse_section(
        campaign, source.overall_item, source.sample_respondents(), raking,
        None if raking is None else source.raking_ratio_range(raking), design, raked,
        weighting=filters.weighting, session=session, sampled=sampled)


def _strata_and_groups(source, pops: dict[str, int],
                       raking=None) -> tuple[list[Stratum], list[BreakdownRow]]:
    """The household groups: their design weights, and their cells."""
    strata, groups = [], []
    for g in sorted(set(pops) | source.groups()):
        r = source.respondents(("groups", g))
        strata.append(Stratum(group=g, label=GROUP_LABELS.get(g, g),
                              population=int(pops.get(g, 0)), respondents=r,
                              design_weight=_r(max(pops.get(g, 0), r) / r, 4) if r else None))
        cell = _cell_with_statistics(source, ("groups", g), {g: pops.get(g, 0)},
                                     raking=raking)[0]
        groups.append(_named(g, GROUP_LABELS.get(g, g), cell))
    return strata, groups


def _pooled_analyses(campaign: Campaign, source, stats) -> dict:
    """Reliability, validity, indicator, drivers, IPA, mode effects and comment themes of
    the pooled cell; empty (None, no rows) when fewer than MIN_CELL responses are counted."""
    if source.n < MIN_CELL:
        return {"reliability": None, "validity": None, "drivers": [], "ipa": None,
                "indicator": None, "mode_effects": [], "comments": None}
    labels = source.labels
    out = {"reliability": source.reliability(), "validity": source.validity(),
           "drivers": [], "ipa": None, "indicator": None}
    if stats is not None:
        out["indicator"] = _indicator_of(campaign, source.overall_item, stats)
        out["drivers"] = [
            Driver(dimension=d.name, label=labels["dim:" + d.name],
                   importance=_r(coef, STAT_DECIMALS), p_value=_r(p, STAT_DECIMALS),
                   n_used=n_used)
            for d, coef, p, n_used in zip(stats.composite.dimensions,
                                          stats.drivers.coefficients, stats.drivers.p_values,
                                          stats.drivers.n_used, strict=True)]
        out["ipa"] = ImportancePerformance(
            importance_cut=_r(stats.ipa.importance_cut, STAT_DECIMALS),
            performance_cut=_r(stats.ipa.performance_cut, SCORE_DECIMALS),
            points=[IpaPoint(dimension=p.label, label=labels["dim:" + p.label],
                             importance=_r(p.importance, STAT_DECIMALS),
                             performance=_r(p.performance, SCORE_DECIMALS),
                             quadrant=p.quadrant) for p in stats.ipa.points])
    out["mode_effects"] = source.mode_effects()
    out["comments"] = source.comments()
    return out


def _indicator_of(campaign: Campaign, overall_item: str, stats) -> Indicator:
    overall = next(it for it in stats.items if it.name == overall_item)
    return _indicator(campaign, overall.estimates)


def indicator_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                       session: Session) -> IndicatorDocument:
    """``n_respondents`` and ``indicator`` of :func:`scores_document`, and nothing else.

    For a figure beside the main document (the dashboard's indicator with the other
    treatment of exclusions): the pooled statistics only, without the breakdowns,
    reliability, drivers, mode effects and comment themes (half of a cold document).
    """
    filters = filters or ScoreFilters()
    with gc_paused():
        source = open_source(campaign, filters, session=session)
        roster = roster_counts(campaign, session=session)
        pops = roster.populations(project=filters.project, community=filters.community)
        indicator = None
        if source.n >= MIN_CELL:
            raking = (source.raking(roster.counts, pops, filters)
                      if filters.weighting == "raked" else None)
            stats = _cell_with_statistics(source, None, pops, raking=raking)[1]
            if stats is not None:
                indicator = _indicator_of(campaign, source.overall_item, stats)
        return IndicatorDocument(n_respondents=source.n, indicator=indicator)


def _dimension_of(dimensions: dict[str, list[str]], qid: str) -> str | None:
    for d, items in dimensions.items():
        if qid in items:
            return d
    return None


def _project_names(campaign: Campaign, session: Session) -> dict[str, str]:
    return dict(session.exec(select(Project.code, Project.name)
                             .where(Project.campaign_id == campaign.id)).all())


def _community_names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Community.code, Community.name)).all())
