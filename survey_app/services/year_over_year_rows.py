"""The year-over-year section in words and rows for the exports: the summary workbook's
sheet 与上年比较, the Word report's table and the indicator table's 不低于上年 rows.

Every text is read from the scores document's section
(:class:`~survey_app.services.year_over_year_model.YearOverYear`), so the exports only
format what the dashboard shows. Rates are printed in percent and their changes in
percentage points (个百分点), indices with two decimals.

Examples
--------
>>> from survey_app.services.year_over_year_model import YearOverYearFigure
>>> f = YearOverYearFigure(scope="pooled", group=None, figure="overall_rate", dimension=None,
...     current=0.8649, current_se=0.015, previous=0.84, previous_se=0.017,
...     not_compared=None, change=0.0249, change_se=0.022672, change_ci=(-0.0202, 0.0692),
...     probability_not_lower=0.8641, not_lower=True)
>>> change_text(f), interval_text(f), verdict(f)
('+2.5个百分点', '-2.0～+6.9个百分点', '达到')
>>> comparison_note(f)
'较上年+2.5个百分点（95%置信区间-2.0～+6.9个百分点），真实变化不低于0的可能性约为86.4%，达到“不低于上年”。'
"""

from __future__ import annotations

from survey_app.services.score_filters import GROUP_LABELS
from survey_app.services.year_over_year_model import YearOverYear, YearOverYearFigure

__all__ = ["FIGURE_NAMES", "change_text", "comparison_note", "figure_label", "interval_text",
           "report_rows", "verdict", "workbook_rows"]

FIGURE_NAMES = {"overall_rate": "总体满意率", "overall_index": "总体满意度指数",
                "composite_index": "综合满意度指数", "dimension_rate": "满意率",
                "dimension_index": "满意度指数"}
WORDING_CHANGED = "口径变化，未比较"
NO_ESTIMATE = "缺少估计值，未比较"
WORKBOOK_HEADER = ["范围", "住户类别编码", "住户类别", "指标", "维度编码", "上年值", "上年标准误",
                   "本年值", "本年标准误", "变化（本年减上年）", "变化的标准误", "变化95%下限",
                   "变化95%上限", "真实变化不低于0的可能性", "是否达到“不低于上年”", "说明"]


def _is_rate(f: YearOverYearFigure) -> bool:
    return f.figure.endswith("rate")


def value_text(f: YearOverYearFigure, v: float | None) -> str:
    """A year's estimate: a rate in percent with one decimal, an index with two."""
    if v is None:
        return "—"
    return f"{v * 100:.1f}%" if _is_rate(f) else f"{v:.2f}"


def _signed(f: YearOverYearFigure, v: float) -> str:
    return f"{v * 100:+.1f}" if _is_rate(f) else f"{v:+.2f}"


def _unit(f: YearOverYearFigure) -> str:
    return "个百分点" if _is_rate(f) else ""


def change_text(f: YearOverYearFigure, *, unit: bool = True) -> str:
    """The change (a rate's in percentage points); "—" when not compared."""
    if f.change is None:
        return "—"
    return _signed(f, f.change) + (_unit(f) if unit else "")


def interval_text(f: YearOverYearFigure, *, unit: bool = True) -> str:
    """The 95 % interval of the change; "—" when not compared."""
    if f.change_ci is None:
        return "—"
    low, high = f.change_ci
    return f"{_signed(f, low)}～{_signed(f, high)}" + (_unit(f) if unit else "")


def verdict(f: YearOverYearFigure) -> str:
    """Whether the target 不低于上年 is met, or why the figure is not compared."""
    if f.not_compared == "wording_changed":
        return WORDING_CHANGED
    if f.change is None:
        return NO_ESTIMATE
    return "达到" if f.not_lower else "未达到"


def comparison_note(f: YearOverYearFigure) -> str:
    """One sentence for a table's note column."""
    if f.not_compared == "wording_changed":
        return "问卷题目措辞与上年不同（口径变化），未与上年比较。"
    if f.change is None:
        return "上年或本年缺少估计值，未与上年比较。"
    return (f"较上年{change_text(f)}（95%置信区间{interval_text(f)}），真实变化不低于0的可能性约为"
            f"{f.probability_not_lower:.1%}，{verdict(f)}“不低于上年”。")


def figure_label(f: YearOverYearFigure, dimension_labels: dict[str, str]) -> str:
    """The figure as a report names it: 总体满意率, 租赁补贴户总体满意率, 信息公开满意率."""
    name = FIGURE_NAMES[f.figure]
    if f.dimension is not None:
        return dimension_labels.get(f.dimension, f.dimension) + name
    if f.group is not None:
        return GROUP_LABELS.get(f.group, f.group) + name
    return name


def report_rows(section: YearOverYear, dimension_labels: dict[str, str]) -> list[dict]:
    """The Word table's rows: label, last year, this year, change, interval, P, verdict."""
    return [{"label": figure_label(f, dimension_labels),
             "previous": value_text(f, f.previous), "current": value_text(f, f.current),
             "change": change_text(f, unit=False), "ci": interval_text(f, unit=False),
             "p": "—" if f.probability_not_lower is None else
             f"{f.probability_not_lower * 100:.1f}%",
             "verdict": verdict(f)} for f in section.figures]


def workbook_rows(section: YearOverYear, dimension_labels: dict[str, str],
                  item_labels: dict[str, str]) -> list[list]:
    """The summary workbook's sheet: a line naming last year's campaign, the header, one
    row per figure (numbers as numbers, rates as shares), then the reworded items."""
    rows = [[f"上年调查：{section.previous_title}（{section.previous_year}年度，有效问卷"
             f"{section.previous_respondents}份），与本年采用相同的筛选条件和加权方法"],
            WORKBOOK_HEADER]
    for f in section.figures:
        low, high = f.change_ci or (None, None)
        rows.append([
            "合计（加权）" if f.group is None else "住户类别", f.group or "all",
            "全部住户" if f.group is None else GROUP_LABELS.get(f.group, f.group),
            figure_label(f, dimension_labels), f.dimension, f.previous, f.previous_se,
            f.current, f.current_se, f.change, f.change_se, low, high,
            f.probability_not_lower, verdict(f),
            comparison_note(f) if f.change is None else None])
    if section.changed_items:
        rows.append(["问卷措辞与上年不同（口径变化）的题目：" + "、".join(
            item_labels.get(i, i) for i in section.changed_items)])
    return rows
