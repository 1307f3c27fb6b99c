"""Non-response: raking the counted respondents to the roster, and the document's section.

Response rates differ by community and project, so design weights N_h/r_h over-represent
the communities that answered more. With ``weighting="raked"`` each household group's
respondents are raked (:func:`analysis.rake_weights`) to the roster's households of that
group by community and by project (within the document's project/community filter); the
scores then use these weights (:func:`analysis.raked_campaign_statistics`). The section
(:func:`nonresponse_section`) reports the response rates, how the raking went, the headline
figures with and without it, and a sentence for the report's limitations
(:data:`LIMITATION_ZH`, also for the Word report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

import analysis
from analysis.conventions import RAKING_CONVENTION
from survey_app.models import Campaign, Community, Household, Project, ResponseMode
from survey_app.services.counted_data import CountedData
from survey_app.services.score_filters import (
    GROUP_LABELS,
    RATE_DECIMALS,
    SCORE_DECIMALS,
    ScoreFilters,
)
from survey_app.services.score_filters import rounded as _r
from survey_app.services.scores_model import (
    HeadlineDifference,
    NonResponse,
    RakingSummary,
    ResponseRateRow,
)

#: Roster key position (group, project code, community code) and respondent factor of each
#: raking margin, in raking order.
MARGINS = (("community", 2, "communities"), ("project", 1, "projects"))
TRIM = (0.3, 3.0)

NONRESPONSE_CONVENTION = (
    "response rate = sampled households with a counted response in this document's selection "
    "(personal link or paper form) / sampled households (AAPOR RR1, none treated as "
    "ineligible), 95% Wilson interval (the response propensity, no "
    "FPC); headline differences = raked - design-weighted pooled figures; "
    + RAKING_CONVENTION.format(low=TRIM[0], high=TRIM[1]))


def conventions_for(conventions: dict[str, str], weighting: str) -> dict[str, str]:
    """The document's conventions; with raked weights the ``weighting`` text says so."""
    out = dict(conventions)
    if weighting == "raked":
        out["weighting"] = (conventions["weighting"] + "; then "
                            + RAKING_CONVENTION.format(low=TRIM[0], high=TRIM[1]))
    return out


def limitation_sentence(rates: list[ResponseRateRow], difference: float | None) -> str:
    """The limitations sentence (Simplified Chinese) for the report, in the report's words
    (回答率, 作答; the weighting named by what it does, its change up or down).

    Examples
    --------
    >>> row = ResponseRateRow(kind="community", code="A", label="甲", sampled=10, responded=7,
    ...                       response_rate=0.7, ci=(0.4, 0.9))
    >>> limitation_sentence([row], -0.004).split("，")[0]
    '各社区回答率在70.0%至70.0%之间'
    >>> limitation_sentence([], -0.004).split("；")[0].split("，")[-1]
    '总体满意率下降0.4个百分点'
    >>> limitation_sentence([], 0.0002).split("；")[0].split("，")[-1]
    '总体满意率基本不变（变化不足0.1个百分点）'
    """
    shown = [r.response_rate for r in rates if r.kind == "community" and r.response_rate]
    span = (f"各社区回答率在{min(shown):.1%}至{max(shown):.1%}之间，" if shown else "")
    change = ("" if difference is None else
              "若按各社区、各项目的名册户数对作答住户重新加权（加权调整），总体满意率"
              f"{_points_change(difference)}；")
    return (f"{span}{change}未作答住户的满意程度可能与作答住户不同，加权调整只能校正社区和"
            "项目构成上的差异，不能消除其他原因造成的偏差。")


def _points_change(difference: float) -> str:
    """A change of a rate in words: 上升/下降 x.x个百分点, or 基本不变 below 0.05 points."""
    points = round(difference * 100, 1)
    if points == 0:
        return "基本不变（变化不足0.1个百分点）"
    return f"{'上升' if points > 0 else '下降'}{abs(points):.1f}个百分点"


@dataclass(frozen=True)
class CountedRaking:
    """Raked weights of the counted respondents and the margins (crossed with the group)."""

    weights: np.ndarray
    margins: tuple[np.ndarray, ...]
    result: analysis.RakedWeights
    merged: tuple[str, ...]
    design_weights: np.ndarray


def rake_counted(data: CountedData, roster_counts: dict, pops: dict[str, int],
                 filters: ScoreFilters) -> CountedRaking | None:
    """Rake each group's counted respondents to the roster's margins (None: no respondents).

    ``roster_counts`` is :class:`~survey_app.services.scores.RosterCounts` ``.counts``;
    ``pops`` the document's N_h. A margin category with households but no respondents is
    merged (its households spread proportionally over the group's other categories); one
    with respondents but no roster households (open-link answers) keeps its design-weighted
    count; each margin is then scaled to the group's N_h (raised to r_h as in the design).
    """
    groups = data.factor("groups")
    if groups.codes.size == 0:
        return None
    r_h = np.bincount(groups.codes, minlength=len(groups.labels))
    n_h = np.array([max(int(pops.get(g, 0)), int(r)) for g, r in zip(groups.labels, r_h,
                                                                      strict=True)], float)
    base = (n_h / np.maximum(r_h, 1))[groups.codes]
    margins, targets, merged = [], [], []
    for name, position, factor_key in MARGINS:
        factor = data.factor(factor_key)
        crossed, inverse = np.unique(groups.codes * len(factor.labels) + factor.codes,
                                     return_inverse=True)
        target, unmatched = margin_targets(
            (name, position), groups.labels, factor.labels, crossed,
            lambda k, of=inverse: base[of == k].sum(), n_h, roster_counts, filters)
        merged += unmatched
        margins.append(inverse.astype(np.int64))
        targets.append(target)
    result = analysis.rake_weights(margins, targets, base, trim=TRIM)
    return CountedRaking(result.weights, tuple(margins), result, tuple(sorted(merged)), base)


def margin_targets(margin: tuple[str, int], group_labels, labels, crossed: np.ndarray,
                   respondents_weighted, n_h: np.ndarray, roster_counts: dict,
                   filters: ScoreFilters) -> tuple[np.ndarray, list[str]]:
    """One margin's raking targets and its merged roster categories.

    ``margin`` is (name, roster key position) of :data:`MARGINS`; ``crossed`` the margin's
    categories with respondents, each group code × len(labels) + label code;
    ``respondents_weighted(k)`` the design-weighted respondents of category k, its target
    when the roster has no households there (open-link answers). Each group's targets are
    then scaled to its N_h (``n_h``, by group code); a roster category of a group without
    respondents is merged (named in the list returned).
    """
    name, position = margin
    households = _roster_margin(roster_counts, filters, position)
    target = np.empty(crossed.size)
    for k, key in enumerate(crossed.tolist()):
        g, label = group_labels[key // len(labels)], labels[key % len(labels)]
        target[k] = households.get((g, label), 0) or respondents_weighted(k)
    group_of = crossed // len(labels)
    merged = []
    for g_code, g in enumerate(group_labels):
        present = {labels[key % len(labels)] for key in crossed[group_of == g_code].tolist()}
        merged += [f"{g}/{name}:{label}" for (hg, label), n in households.items()
                   if hg == g and n and label not in present]
        in_group = group_of == g_code
        target[in_group] *= n_h[g_code] / target[in_group].sum()
    return target, merged


def _roster_margin(roster_counts: dict, filters: ScoreFilters,
                   position: int) -> dict[tuple[str, str | None], int]:
    """Roster households by (group, project or community code) within the filters."""
    out: dict[tuple[str, str | None], int] = {}
    for key, count in roster_counts.items():
        group, project, community = key
        if (filters.project and project != filters.project) or (
                filters.community and community != filters.community) or (
                filters.group and group != filters.group):
            continue
        out[group, key[position]] = out.get((group, key[position]), 0) + count
    return out


def sample_respondents(data: CountedData) -> dict[tuple, int]:
    """Counted respondents who answered through the sample (personal link or paper), by
    (group, project code, community code)."""
    through_sample = ~data.factor("modes").mask(ResponseMode.WEB_OPEN.value)
    keys = [data.factor(k) for k in ("groups", "projects", "communities")]
    sizes = [len(f.labels) for f in keys]
    code = (keys[0].codes * sizes[1] + keys[1].codes) * sizes[2] + keys[2].codes
    counts = np.bincount(code[through_sample], minlength=sizes[0] * sizes[1] * sizes[2])
    out = {}
    for k in np.flatnonzero(counts).tolist():
        g, rest = divmod(k, sizes[1] * sizes[2])
        p, c = divmod(rest, sizes[2])
        out[keys[0].labels[g], keys[1].labels[p], keys[2].labels[c]] = int(counts[k])
    return out


def response_rates(campaign: Campaign, answered: dict[tuple, int], *, session: Session,
                   sampled=None) -> list[ResponseRateRow]:
    """Sampled households and those with a counted response, by group, project and community
    (one grouped query unless ``sampled``, RosterCounts.sampled, already holds them), with
    Wilson intervals; ``answered`` the counted respondents who came through the sample by
    (group, project code, community code) (:func:`sample_respondents`)."""
    # Sampled households by cell (one grouped read); the sampled households with a counted
    # response are the counted respondents who came through the sample (personal link or
    # paper form; open-link responses have no sample denominator), counted in numpy from
    # the arrays already read: a join of responses to households took seconds on SQLite
    # at 100,000 households.
    cell = (Household.household_group, Household.project_id, Household.community_id)
    if sampled is None:
        sampled = session.exec(
            select(*cell, func.count()).where(Household.campaign_id == campaign.id,
                                              Household.sampled == True)  # noqa: E712
            .group_by(*cell)).all()
    projects_by_id = dict(session.exec(select(Project.id, Project.code).where(
        Project.campaign_id == campaign.id)).all())
    communities_by_id = dict(session.exec(select(Community.id, Community.code)).all())
    cells = [(g, p, c, n, answered.get((g, projects_by_id.get(p), communities_by_id.get(c)), 0))
             for g, p, c, n in sampled]
    projects = {p.id: p for p in session.exec(select(Project).where(
        Project.campaign_id == campaign.id)).all()}
    communities = {c.id: c for c in session.exec(select(Community)).all()}
    tallies: dict[tuple[str, str, str], list[int]] = {}
    for group, project_id, community_id, count, done in cells:
        keys = [("group", group, GROUP_LABELS.get(group, group))]
        if project_id in projects:
            keys.append(("project", projects[project_id].code, projects[project_id].name))
        if community_id in communities:
            keys.append(("community", communities[community_id].code,
                         communities[community_id].name))
        for key in keys:
            tally = tallies.setdefault(key, [0, 0])
            tally[0] += count
            tally[1] += done
    order = {"group": 0, "project": 1, "community": 2}
    rows = []
    for (kind, code, label), (sampled, done) in sorted(
            tallies.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        ci = analysis.wilson_interval(done, sampled) if sampled else None
        rows.append(ResponseRateRow(
            kind=kind, code=code, label=label, sampled=sampled, responded=done,
            response_rate=_r(done / sampled, RATE_DECIMALS) if sampled else None,
            ci=(_r(ci.low, RATE_DECIMALS), _r(ci.high, RATE_DECIMALS)) if ci else None))
    return rows


def _headline(overall: str, design, raked) -> list[HeadlineDifference]:
    """Overall item rate, score and index and the composite index, design vs raked (each
    campaign statistics, or for the raked side also an ``analysis.RakedHeadline``)."""
    def figures(stats):
        if stats is None:
            return {}
        if isinstance(stats, analysis.RakedHeadline):
            rate, score, index = stats.overall_rate, stats.overall_score, stats.overall_index
            composite = stats.composite
        else:
            item = next(it for it in stats.items if it.name == overall).estimates
            rate, score, index = item.rate.estimate, item.score.estimate, item.index.estimate
            composite = stats.composite.overall
        return {"overall_rate": (rate, RATE_DECIMALS),
                "overall_score": (score, SCORE_DECIMALS),
                "overall_index": (index, SCORE_DECIMALS),
                "composite_index": (composite, SCORE_DECIMALS)}

    d, r = figures(design), figures(raked)
    out = []
    for name in ("overall_rate", "overall_score", "overall_index", "composite_index"):
        dv, decimals = d.get(name, (None, 4))
        rv = r.get(name, (None, 4))[0]
        diff = None if dv is None or rv is None else round(rv - dv, decimals) + 0.0
        out.append(HeadlineDifference(figure=name, design=_r(dv, decimals),
                                      raked=_r(rv, decimals), difference=_r(diff, decimals)))
    return out


def nonresponse_section(campaign: Campaign, overall_item: str, answered: dict[tuple, int],
                        raking, ratio_range: tuple[float, float] | None,
                        design_stats, raked_stats, *, weighting: str,
                        session: Session, sampled=None) -> NonResponse:
    """The document's non-response section (see the module docstring); ``answered`` and
    ``sampled`` as :func:`response_rates` takes them; ``raking`` has the raking's
    ``result`` and ``merged`` categories, ``ratio_range`` the least and greatest ratio of
    raked to design weight."""
    rates = response_rates(campaign, answered, session=session, sampled=sampled)
    headline = _headline(overall_item, design_stats, raked_stats)
    summary = None
    if raking is not None:
        res = raking.result
        summary = RakingSummary(
            margins=[m[0] for m in MARGINS], iterations=res.iterations,
            converged=res.converged, max_margin_error=_r(res.max_margin_error, 6),
            trimmed=res.n_trimmed, trim=res.trim, merged_categories=list(raking.merged),
            weight_ratio_range=(_r(ratio_range[0], 4), _r(ratio_range[1], 4)))
    return NonResponse(weighting=weighting, response_rates=rates, raking=summary,
                       headline=headline,
                       limitation_zh=limitation_sentence(rates, headline[0].difference),
                       convention=NONRESPONSE_CONVENTION)
