"""Year over year: a campaign's headline figures against its predecessor's.

A campaign names the same area's campaign of an earlier year
(:mod:`survey_app.services.campaign_years`). Its scores document then carries a section
(:func:`year_over_year_section`) with, in the pooled cell and in each household group, the
overall item's rate and index and the composite index, and in the pooled cell each
dimension's rate and index, against the predecessor's under the same filters and weighting:
the change, its 95 % interval and P(true change ≥ 0) from :func:`analysis.year_over_year_change`
(independent samples), and whether the target 不低于上年 is met.

Figures are compared only when their wording is unchanged: an item whose question text
(every language) or answer scale differs between the two years' questionnaires of a
household group, or that one year does not ask, is marked 口径变化 in that group and in the
pooled cell, and so is every dimension and composite index containing it. The estimates
and SEs are the two documents' own (rounded as they are reported), so the change can be
recomputed from them.
"""

from __future__ import annotations

from sqlmodel import Session, select

import analysis
from analysis.conventions import YEAR_OVER_YEAR_CONVENTION
from survey_app.models import Campaign, CampaignQuestionnaire, QuestionnaireVersion
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.score_filters import (
    GROUP_LABELS,
    RATE_DECIMALS,
    SCORE_DECIMALS,
    STAT_DECIMALS,
)
from survey_app.services.score_filters import rounded as _r
from survey_app.services.year_over_year_model import YearOverYear, YearOverYearFigure

__all__ = ["compared", "item_wordings", "year_over_year_section"]

#: Figure -> (decimals of the estimate and change, the item/cell attribute, the SE's).
_OVERALL = {"overall_rate": ("rate", "rate_se", RATE_DECIMALS),
            "overall_index": ("index", "index_se", SCORE_DECIMALS)}
_DIMENSION = {"dimension_rate": ("rate", "rate_se", RATE_DECIMALS),
              "dimension_index": ("index", "index_se", SCORE_DECIMALS)}


def item_wordings(campaign: Campaign, *, session: Session) -> dict[str, dict[str, dict]]:
    """Household group -> rating item id -> its wording: the question text (language ->
    text) and the answer scale (codes, labels, 不清楚 code)."""
    rows = session.exec(
        select(CampaignQuestionnaire.household_group, QuestionnaireVersion)
        .join(QuestionnaireVersion,
              QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id)).all()
    out: dict[str, dict[str, dict]] = {}
    for group, version in rows:
        questionnaire = questionnaire_of(version)
        scale = questionnaire.scale.model_dump()
        out[group] = {q.id: {"text": q.text.model_dump(), "scale": scale}
                      for q in questionnaire.questions() if q.type == "rating"}
    return out


def changed_items(now: dict[str, dict[str, dict]], before: dict[str, dict[str, dict]],
                  groups: list[str]) -> set[str]:
    """Items asked of any of ``groups`` in either year whose wording differs (or that one
    year does not ask)."""
    changed = set()
    for group in groups:
        a, b = now.get(group, {}), before.get(group, {})
        changed |= {item for item in set(a) | set(b) if a.get(item) != b.get(item)}
    return changed


class _Side:
    """One year's pooled cell and group rows, looked up by figure."""

    def __init__(self, pooled, groups) -> None:
        self.cells = {None: pooled, **{g.code: g for g in groups}}

    def value(self, group: str | None, figure: str, overall_item: str,
              dimension: str | None):
        cell = self.cells.get(group)
        if cell is None or cell.suppressed:
            return None, None
        if figure == "composite_index":
            c = cell.composite_index
            return (c.estimate, c.se) if c is not None else (None, None)
        if figure in _OVERALL:
            attr, se_attr, _ = _OVERALL[figure]
            found = cell.items.get(overall_item)
        else:
            attr, se_attr, _ = _DIMENSION[figure]
            found = cell.dimensions.get(dimension)
        if found is None:
            return None, None
        return getattr(found, attr), getattr(found, se_attr)


def _figure(scope_group: str | None, figure: str, dimension: str | None, now: _Side,
            before: _Side, changed: bool, doc) -> YearOverYearFigure:
    x1, se1 = now.value(scope_group, figure, doc.overall_item, dimension)
    x0, se0 = before.value(scope_group, figure, doc.overall_item, dimension)
    result = analysis.year_over_year_change(x1, se1, x0, se0, comparable=not changed)
    decimals = (_OVERALL.get(figure) or _DIMENSION.get(figure) or (0, 0, SCORE_DECIMALS))[2]
    reason = ("wording_changed" if changed
              else "no_estimate" if result.difference is None else None)
    ci = result.interval
    return YearOverYearFigure(
        scope="pooled" if scope_group is None else "group", group=scope_group, figure=figure,
        dimension=dimension, current=x1, current_se=se1, previous=x0, previous_se=se0,
        not_compared=reason, change=_r(result.difference, decimals),
        change_se=_r(result.se, STAT_DECIMALS + 2),
        change_ci=(_r(ci.low, decimals), _r(ci.high, decimals)) if ci else None,
        probability_not_lower=_r(result.probability_not_lower, STAT_DECIMALS),
        not_lower=result.not_lower)


def year_over_year_section(doc, previous: Campaign, previous_parts, *, now_wording: dict,
                           before_wording: dict) -> YearOverYear:
    """The section of ``doc`` (a scores document's fields: ``pooled``, ``groups``, ``items``,
    ``dimensions``, ``overall_item``, ``filters``) against ``previous_parts`` =
    (respondents, pooled cell, group rows) of the predecessor under the same filters."""
    n_before, pooled_before, groups_before = previous_parts
    now, before = _Side(doc.pooled, doc.groups), _Side(pooled_before, groups_before)
    groups = sorted({g.code for g in doc.groups} | {g.code for g in groups_before})
    if doc.filters.group:
        groups = [doc.filters.group]
    dims = {d.id: set(d.items) for d in doc.dimensions}
    all_items = {i.id for i in doc.items} - {doc.overall_item}
    figures = []
    for scope in [None, *groups]:
        changed = changed_items(now_wording, before_wording,
                                groups if scope is None else [scope])
        kinds = [("overall_rate", None), ("overall_index", None), ("composite_index", None)]
        if scope is None:
            kinds += [(kind, d) for d in dims for kind in ("dimension_rate", "dimension_index")]
        for kind, dim in kinds:
            touched = ({doc.overall_item} if kind in _OVERALL
                       else all_items if kind == "composite_index" else dims[dim])
            figures.append(_figure(scope, kind, dim, now, before, bool(touched & changed),
                                   doc))
    changed_all = changed_items(now_wording, before_wording, groups)
    return YearOverYear(
        previous_slug=previous.slug, previous_title=previous.title,
        previous_year=previous.year, previous_respondents=n_before,
        changed_items=sorted(changed_all & ({i.id for i in doc.items})),
        figures=figures, summary_zh=summary_sentence(doc, previous.year, figures,
                                                     changed_all),
        convention=YEAR_OVER_YEAR_CONVENTION)


def compared(doc, campaign: Campaign, previous: Campaign, previous_parts, *,
             session: Session):
    """``doc`` (a scores document of ``campaign``) with its ``year_over_year`` section and
    convention, against ``previous_parts`` of the ``previous`` campaign."""
    section = year_over_year_section(
        doc, previous, previous_parts, now_wording=item_wordings(campaign, session=session),
        before_wording=item_wordings(previous, session=session))
    return doc.model_copy(update={
        "year_over_year": section,
        "conventions": {**doc.conventions, "year_over_year": YEAR_OVER_YEAR_CONVENTION}})


def _value(figure: str, v: float) -> str:
    return f"{v:.1%}" if figure.endswith("rate") else f"{v:.2f}"


def _change(figure: str, v: float, unit: str = "个百分点") -> str:
    return f"{v * 100:+.1f}{unit}" if figure.endswith("rate") else f"{v:+.2f}"


def _figure_sentence(name: str, f: YearOverYearFigure) -> str:
    """One figure's change in words (Simplified Chinese)."""
    if f.not_compared == "wording_changed":
        return f"{name}因问卷题目措辞变化（口径变化）未与上年比较"
    if f.change is None:
        return f"{name}缺少上年或本年的估计值，未与上年比较"
    low, high = f.change_ci
    unit = "个百分点" if f.figure.endswith("rate") else ""
    verdict = "达到" if f.not_lower else "未达到"
    return (f"{name}由上年的{_value(f.figure, f.previous)}变为{_value(f.figure, f.current)}，"
            f"变化{_change(f.figure, f.change)}（95%置信区间{_change(f.figure, low, '')}～"
            f"{_change(f.figure, high, '')}{unit}），{verdict}“不低于上年”的目标（真实变化不低于0的"
            f"可能性约为{f.probability_not_lower:.1%}）")


def _fallen(down: list[YearOverYearFigure], name: dict[str, str]) -> str:
    beyond = [name[f.dimension] for f in down if f.change_ci[1] < 0]
    return ("指数低于上年、未达到“不低于上年”的维度有" + "、".join(name[f.dimension] for f in down)
            + (f"（其中{'、'.join(beyond)}的下降超出抽样误差）" if beyond
               else "（下降均在抽样误差范围内）"))


def _dimension_sentence(figures: list[YearOverYearFigure], labels: dict[str, str]) -> str:
    """Dimensions whose index rose beyond sampling error, and those lower than last year."""
    indices = [f for f in figures if f.group is None and f.figure == "dimension_index"
               and f.change is not None]
    name = {f.dimension: labels.get(f.dimension, f.dimension) for f in indices}
    up = [name[f.dimension] for f in indices if f.change_ci[0] > 0]
    down = [f for f in indices if not f.not_lower]
    out = ["指数比上年提高且95%置信区间不含0的维度有" + "、".join(up)] if up else []
    if down:
        out.append(_fallen(down, name))
    return "分维度看，" + "；".join(out) + "。" if out else ""


def summary_sentence(doc, previous_year: int, figures: list[YearOverYearFigure],
                     changed: set[str]) -> str:
    """The report's paragraph comparing the headline figures with the previous year."""
    by_key = {(f.group, f.figure, f.dimension): f for f in figures}
    parts = [_figure_sentence("总体满意率", by_key[None, "overall_rate", None]),
             _figure_sentence("综合满意度指数", by_key[None, "composite_index", None])]
    for g in doc.groups:
        f = by_key.get((g.code, "overall_rate", None))
        if f is not None and f.change is not None:
            parts.append(_figure_sentence(f"{GROUP_LABELS.get(g.code, g.label)}总体满意率", f))
    labels = doc.dimension_labels()
    reworded = [labels.get(i.dimension, i.label) for i in doc.items if i.id in changed]
    text = f"与上年（{previous_year}年度）调查相比，" + "；".join(parts) + "。"
    text += _dimension_sentence(figures, labels)
    if reworded:
        text += ("以下评价内容的问卷措辞与上年不同，属口径变化，未计算变化：" + "、".join(reworded)
                 + "。")
    return text + "两年为相互独立的抽样调查，变化的标准误取两年标准误平方和的平方根。"
