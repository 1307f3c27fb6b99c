"""Roll-ups of a city or province for a year from its county campaigns' category counts.

Per county campaign and household group, the overall item's stratified rate and score with
their SEs (with the finite-population correction), the valid answers r_ch and the roster
households N_ch are computed from the campaigns' category counts
(:mod:`survey_app.services.rollup_counts`), exactly as each campaign's scores document
computes its group rows but unrounded. The region's figure is the stratified estimate over
those county × group strata (:func:`analysis.region_rollup`: weights N_ch/N, variances
summed), never an average of county figures; the league table ranks the counties with rank
intervals (:func:`analysis.league_table`) and the funnel compares each county's rate with
the region's (:func:`analysis.funnel_plot`).

Only campaigns that belong to a unit in the region's subtree and whose year matches enter.
A county's roll-up equals its campaign's pooled figure (up to the document's rounding of
the latter).
"""

from __future__ import annotations

from sqlmodel import Session

import analysis
from survey_app.models import Unit
from survey_app.services import units as units_service
from survey_app.services.rollup_model import (
    CountyRow,
    DimensionAlpha,
    FunnelLine,
    RolledEstimate,
    RollupDocument,
    UnitHeading,
)
from survey_app.services.score_cache import cached_rollup
from survey_app.services.score_filters import (
    RATE_DECIMALS,
    SCORE_DECIMALS,
    STAT_DECIMALS,
    ScoresError,
)
from survey_app.services.score_filters import rounded as _r


def _conventions() -> dict[str, str]:
    from analysis.funnel import FUNNEL_CONVENTION
    from analysis.league import LEAGUE_CONVENTION, RANK_DRAWS, RANK_SEED
    from analysis.rollup import ROLLUP_CONVENTION

    return {"rollup": ROLLUP_CONVENTION,
            "league": LEAGUE_CONVENTION.format(draws=RANK_DRAWS, seed=RANK_SEED,
                                               confidence=0.95),
            "funnel": FUNNEL_CONVENTION,
            "inputs": "each county campaign's category counts of its counted responses, "
                      "overall item, per household group: the rate, score and SEs its "
                      "scores document gives the group (design weights, FPC), unrounded",
            "reliability": "Cronbach's alpha with pairwise deletion over every rating "
                           "item but the overall one (\"all\", as each scores document's) "
                           "and over each dimension's items, over "
                           "every counted response of the region's campaigns (codes 1-5; "
                           "not applicable and no answer missing), from the campaigns' "
                           "per-cell item-pair sums added up: equal to the computation on "
                           "all the rows. \"all\" also has the 95 % Feldt interval with "
                           "n_used = the responses with at least two answered items, from "
                           "the campaigns' counts of responses by answered scale items "
                           "added up, the pooled responses taken as one simple random "
                           "sample (as a scores document's); the dimensions have no "
                           "interval and no n_used (the stored counts are for the whole "
                           "scale only)"}


def _estimate(result, decimals: int) -> RolledEstimate:
    if result is None:
        return RolledEstimate(estimate=None, se=None, ci=None)
    return RolledEstimate(estimate=_r(result.estimate, decimals),
                          se=_r(result.se, STAT_DECIMALS + 2),
                          ci=(_r(result.interval.low, decimals),
                              _r(result.interval.high, decimals)))


def _heading(unit: Unit, session: Session) -> UnitHeading:
    return UnitHeading(code=unit.code, name=unit.name, level=unit.level,
                       ancestors=[u.name for u in units_service.ancestors(unit,
                                                                          session=session)])


def rollup_document(unit: Unit, year: int, *, session: Session) -> RollupDocument:
    """The roll-up of ``unit``'s subtree for ``year`` (see the module docstring), served
    from the roll-up cache while none of its campaigns changed
    (:func:`score_cache.cached_rollup`: two grouped queries, not one per county)."""
    under = units_service.campaigns_under(unit, year, session=session)
    headings = (unit.id, unit.path, unit.name, year,
                tuple((c.id, u.id, u.code, u.name, u.path) for c, u in under))
    return cached_rollup(headings, [c for c, _u in under],
                         lambda: _rollup_document(unit, year, under, session=session),
                         session=session)


def stale_campaigns(unit: Unit, year: int, *, session: Session) -> list:
    """The campaigns of ``unit``'s roll-up for ``year`` whose category counts have pending
    changes. :func:`rollup_document` only reads (it recomputes their counts for itself); a
    caller that may write keeps the refreshed counts (:func:`category_counts.refresh`)."""
    from survey_app.services import category_counts  # numpy: not on the resident's path

    under = units_service.campaigns_under(unit, year, session=session)
    stale = category_counts.pending([c.id for c, _u in under], session=session)
    return [c for c, _u in under if c.id in stale]


def _rollup_document(unit: Unit, year: int, under, *, session: Session) -> RollupDocument:
    from survey_app.services.rollup_counts import region_strata  # numpy, as above

    strata = region_strata(under, session=session)
    if len(strata.items) > 1:
        raise ScoresError(f"the campaigns' overall items differ: {sorted(strata.items)}")
    return RollupDocument(
        unit=_heading(unit, session), year=year, item=next(iter(strata.items), None),
        n_campaigns=len(strata.counties), skipped=strata.skipped,
        reliability=_reliability(strata), conventions=_conventions(), **_rolled(strata))


def _reliability(strata) -> list[DimensionAlpha]:
    """Each dimension's alpha from the region's pooled item-pair sums; the scale's ("all")
    with its Feldt interval from the pooled scale counts too."""
    from survey_app.services.pair_sums import dimension_alpha, scale  # numpy, as above

    out = []
    every = {"all": scale(strata.dimensions)} if strata.dimensions else {}
    for name, items in {**every, **strata.dimensions}.items():
        a = dimension_alpha(items, strata.pairs)
        # A dimension named "all" replaces the scale's row; the scale counts are not its.
        if a is not None and name == "all" and items == every["all"]:
            out.append(_scale_alpha(items, strata))
            continue
        out.append(DimensionAlpha(
            dimension=name, items=list(items),
            alpha=None if a is None else _r(a.alpha, STAT_DECIMALS),
            standardized_alpha=None if a is None else _r(a.standardized_alpha,
                                                         STAT_DECIMALS)))
    return out


def _scale_alpha(items: list[str], strata) -> DimensionAlpha:
    """The scale's alpha, Feldt interval and n_used (responses with two or more answered
    scale items): the stored count is per scale, so only this row has them."""
    from survey_app.services.pair_sums import matrices  # numpy, as above

    a = analysis.pairwise_alpha_from_sums(*matrices(items, strata.pairs),
                                          strata.scale_counts)
    return DimensionAlpha(dimension="all", items=list(items),
                          alpha=_r(a.alpha, STAT_DECIMALS),
                          standardized_alpha=_r(a.standardized_alpha, STAT_DECIMALS),
                          ci=(_r(a.ci_low, STAT_DECIMALS), _r(a.ci_high, STAT_DECIMALS)),
                          n_used=a.n_used)


def _rolled(strata) -> dict:
    """The document's figures: totals, league rows, funnel (empty without answers)."""
    if not any(c.respondents for c in strata.rate_cells):
        return {"population": 0, "respondents": 0, "effective_n": None,
                "rate": _estimate(None, RATE_DECIMALS), "score": _estimate(None, SCORE_DECIMALS),
                "counties": [], "funnel": None, "left_out": []}
    rates = analysis.region_rollup(strata.rate_cells, measure="rate")
    scores = analysis.region_rollup(strata.score_cells, measure="score")
    return {"population": int(rates.total.population),
            "respondents": rates.total.respondents,
            "effective_n": _r(_finite(rates.total.effective_n), 2),
            "rate": _estimate(rates.total, RATE_DECIMALS),
            "score": _estimate(scores.total, SCORE_DECIMALS),
            "counties": _county_rows(strata.counties, rates, scores),
            "funnel": _funnel_line(rates),
            "left_out": [f"{c.unit}/{c.group}" for c in rates.left_out]}


def _finite(value: float) -> float | None:
    return None if value == float("inf") else value


def _county_rows(counties, rates, scores) -> list[CountyRow]:
    units = list(rates.units)
    score_of = {u.unit: u for u in scores.units}
    league = analysis.league_table([u.unit for u in units], [u.estimate for u in units],
                                   [u.se for u in units],
                                   intervals=[u.interval for u in units])
    funnel = analysis.funnel_plot([u.unit for u in units], [u.estimate for u in units],
                                  [u.effective_n for u in units], target=rates.total.estimate)
    on_funnel = {p.unit: p for p in funnel.points}
    by_unit = {u.unit: u for u in units}
    rows = []
    for row in league.rows:
        campaign, county = counties[row.unit]
        point = on_funnel.get(row.unit)
        rolled = by_unit[row.unit]
        rows.append(CountyRow(
            code=county.code, name=county.name, campaign=campaign.slug, title=campaign.title,
            population=int(rolled.population), respondents=rolled.respondents,
            effective_n=_r(_finite(rolled.effective_n), 2),
            rate=_estimate(rolled, RATE_DECIMALS),
            score=_estimate(score_of.get(row.unit), SCORE_DECIMALS),
            rank=row.rank, rank_ci=(row.rank_low, row.rank_high),
            p_best=_r(row.p_best, STAT_DECIMALS), **_funnel_fields(point)))
    return rows


def _funnel_fields(point) -> dict:
    """A county's place on the funnel (all None off the plot: a census)."""
    if point is None:
        return {"funnel": None, "z": None, "limits_95": None, "limits_998": None}
    return {"funnel": point.position, "z": _r(point.z, STAT_DECIMALS),
            "limits_95": _limits(point.limits_95), "limits_998": _limits(point.limits_998)}


def _limits(pair) -> tuple[float | None, float | None]:
    return (_r(pair[0], RATE_DECIMALS), _r(pair[1], RATE_DECIMALS))


def _funnel_line(rates) -> FunnelLine | None:
    sizes = [u.effective_n for u in rates.units if u.effective_n != float("inf")]
    if not sizes:
        return None
    curve = analysis.funnel_curve(rates.total.estimate, max(min(sizes) / 2, 1.0),
                                  max(sizes) * 2)
    return FunnelLine(**{name: [_r(v, RATE_DECIMALS if name != "sizes" else 2)
                                for v in getattr(curve, name)]
                         for name in ("sizes", "low_95", "high_95", "low_998", "high_998")})
