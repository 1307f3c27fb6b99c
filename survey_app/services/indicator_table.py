"""The bureau's indicator table: 服务对象满意度指标 in the 预算绩效 self-evaluation form.

Columns as in the self-evaluation tables of 预算绩效管理: 一级指标 · 二级指标 · 三级指标 ·
指标值类型 (≥/=/≤) · 年度目标值 · 实际完成值 · 分值 · 得分 · 偏差原因分析及改进措施. One
scored row (the overall item's measure under the campaign's rule), then one unscored row
per household group, so the bureau sees both programmes; when the campaign names last
year's campaign, unscored rows 不低于上年 (年度目标值 = last year's value, the change, its
95 % interval and P(true change ≥ 0) in the note column, or 口径变化 when the wording
changed); then 合计, whose 分值 and 得分 are the sums of the rows above it. The dashboard,
the XLSX and the Word report show these rows.

Examples
--------
>>> from survey_app.services.indicator_table import IndicatorRow, display
>>> row = IndicatorRow("满意度指标", "服务对象满意度指标", "居民总体满意率", "≥", 0.9,
...                    0.9312, "rate", 10.0, 10.0, "")
>>> display(row)["target"], display(row)["actual"], display(row)["earned"]
('90%', '93.1%', '10.00')
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlmodel import Session

from survey_app.models import Campaign
from survey_app.services.formula_safety import neutralise, neutralise_row
from survey_app.services.report_settings import indicator_notes
from survey_app.services.scores_model import ScoresDocument
from survey_app.services.year_over_year_rows import comparison_note

#: The year-over-year figure compared for each indicator measure. The section compares
#: rates and indices only; a score campaign is compared on its rate, and the row says so.
YEAR_OVER_YEAR_FIGURES = {"rate": ("overall_rate", "rate"), "index": ("overall_index", "index"),
                          "score": ("overall_rate", "rate")}

SECOND_LEVEL = "服务对象满意度指标"
MEASURE_NAMES = {"rate": "满意率", "score": "满意度得分", "index": "满意度指数"}
HEADER = ["一级指标", "二级指标", "三级指标", "指标值类型", "年度目标值", "实际完成值", "分值",
          "得分", "偏差原因分析及改进措施"]
UNSCORED = "不单独计分"


@dataclass(frozen=True)
class IndicatorRow:
    """One row of the table; ``points`` and ``earned`` are None on unscored rows."""

    first_level: str
    second_level: str
    third_level: str
    comparison: str
    target: float | None
    actual: float | None
    measure: str
    points: float | None
    earned: float | None
    note: str
    #: Set on a row 不低于上年: its target is last year's value (printed as a value).
    previous_year: int | None = None


def indicator_rows(campaign: Campaign, doc: ScoresDocument, *,
                   session: Session) -> list[IndicatorRow]:
    """The scored row, one row per household group, and the 合计 row."""
    notes = indicator_notes(campaign, session=session)
    measure = campaign.indicator_measure or "rate"
    name = MEASURE_NAMES.get(measure, measure)
    ind = doc.indicator
    rows = [IndicatorRow(notes.first_level, SECOND_LEVEL, f"居民总体{name}", "≥",
                         campaign.indicator_target, ind.actual if ind else None, measure,
                         campaign.indicator_points, ind.points_earned if ind else None,
                         notes.deviation_note)]
    for group in doc.groups:
        actual = None
        if not group.suppressed:
            cell = group.items[doc.overall_item]
            actual = {"rate": cell.rate, "score": cell.score, "index": cell.index}.get(measure)
        rows.append(IndicatorRow(notes.first_level, SECOND_LEVEL, f"其中：{group.label}{name}",
                                 "≥", campaign.indicator_target, actual, measure, None, None,
                                 ""))
    rows += _year_over_year_rows(doc, notes.first_level, measure)
    scored = [r for r in rows if r.points is not None]
    earned = [r.earned for r in scored]
    rows.append(IndicatorRow("合计", "", "", "", None, None, measure,
                             sum(r.points for r in scored),
                             None if None in earned else round(sum(earned), 2), ""))
    return rows


def _year_over_year_rows(doc: ScoresDocument, first_level: str,
                         measure: str) -> list[IndicatorRow]:
    """Unscored rows 不低于上年: the pooled value, then each household group's."""
    section = doc.year_over_year
    if section is None:
        return []
    figure, shown = YEAR_OVER_YEAR_FIGURES.get(measure, YEAR_OVER_YEAR_FIGURES["rate"])
    name = MEASURE_NAMES[shown]
    labels = {g.code: g.label for g in doc.groups}
    rows = []
    for f in section.figures:
        if f.figure != figure:
            continue
        who = "居民总体" if f.group is None else f"其中：{labels.get(f.group, f.group)}"
        rows.append(IndicatorRow(
            first_level, SECOND_LEVEL, f"{who}{name}不低于上年（{section.previous_year}年度）",
            "≥", f.previous, f.current, shown, None, None, comparison_note(f),
            previous_year=section.previous_year))
    return rows


def _value(v: float | None, measure: str, *, target: bool = False) -> str:
    """A rate in percent (a target as set, "90%"; a value to one decimal), else 2 decimals."""
    if v is None:
        return "—"
    if measure == "rate":
        return f"{round(v * 100, 2):g}%" if target else f"{v * 100:.1f}%"
    return f"{v:g}" if target else f"{v:.2f}"


def display(row: IndicatorRow) -> dict[str, str]:
    """The row as the dashboard and the report print it (targets without a trailing .0)."""
    total = row.first_level == "合计"
    return {"first_level": row.first_level, "second_level": row.second_level,
            "third_level": row.third_level, "comparison": row.comparison,
            "target": "" if total else _value(row.target, row.measure,
                                              target=row.previous_year is None),
            "actual": "" if total else _value(row.actual, row.measure),
            "points": UNSCORED if row.points is None else f"{row.points:g}",
            "earned": UNSCORED if row.points is None else
            ("—" if row.earned is None else f"{row.earned:.2f}"),
            "note": row.note}


def indicator_workbook(campaign: Campaign, rows: list[IndicatorRow], *,
                       snapshot: str) -> bytes:
    """The table as an XLSX: a title line, the header, the rows and a source line.

    Targets and values are numbers (percent format for rates), so the bureau can compute
    with them; unscored rows say so in 分值 and 得分.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "满意度指标"
    # The campaign's title is typed by an administrator: never a live formula.
    ws.append([neutralise(f"{campaign.title}　服务对象满意度指标完成情况")])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(name="宋体", size=14, bold=True)
    ws.append(HEADER)
    thin = Side(style="thin")
    for row in rows:
        number = "0.0%" if row.measure == "rate" else "0.00"
        ws.append(neutralise_row([
            row.first_level, row.second_level, row.third_level, row.comparison, row.target,
            row.actual, UNSCORED if row.points is None else row.points,
            UNSCORED if row.points is None else row.earned, row.note]))
        for col in (5, 6):
            ws.cell(ws.max_row, col).number_format = number
        ws.cell(ws.max_row, 8).number_format = "0.00"
    for line in ws.iter_rows(min_row=2, max_row=ws.max_row):
        for cell in line:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.append([f"数据快照（sha256）：{snapshot}"])
    for col, width in zip("ABCDEFGHI", (12, 20, 30, 10, 12, 12, 10, 10, 50), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
