"""The summary workbook: every dashboard number as sheets of rows, headed in Chinese.

Rows name cells and items as the dashboard and the report do: household groups, projects
and communities by their names, items by their neutral dimension label (two questionnaires
share an item id with different wordings, so the first questionnaire's wording would be
wrong for the other group's answers); codes stay in their own columns for programs.
Suppressed cells (fewer than MIN_CELL respondents) give counts only.
"""

from __future__ import annotations

from survey_app.convention_texts import readable_conventions
from survey_app.models import Campaign
from survey_app.services.charts import item_label
from survey_app.services.report_text import QUADRANT_NAMES, rule_text
from survey_app.services.score_filters import GROUP_LABELS, MIN_CELL
from survey_app.services.scores_model import BreakdownRow, Cell, ScoresDocument
from survey_app.services.year_over_year_rows import workbook_rows

COUNTS_ONLY = f"少于{MIN_CELL}人，仅显示人数"
BREAKDOWNS = {"pooled": "合计（加权）", "groups": "住户类别", "projects": "项目",
              "communities": "社区"}
CELL_HEADER = ["人数", "有效回答", "不清楚占比", "满意率", "满意率95%下限", "满意率95%上限",
               "满意度得分", "得分95%下限", "得分95%上限", "线性指数", "指数95%区间"]
# The dashboard's words (survey_app/labels.py), so a table and the sheet agree.
POLICIES = {"pairwise": "成对删除", "listwise": "整行删除"}
MEASURES = {"rate": "满意率", "score": "满意度得分", "index": "满意度指数"}
MODE_FILTERS = {"web": "网络问卷", "web_token": "网络问卷（专属链接）",
                "web_open": "网络问卷（公开链接）", "paper": "纸质问卷",
                "interview": "入户访问（手机）"}


#: Columns of proportions, shown as percentages (the stored value is unchanged).
PERCENT_HEADERS = frozenset({"不清楚占比", "满意率", "满意率95%下限", "满意率95%上限"})
PERCENT_FORMAT = "0.00%"
MAX_WIDTH = 60


def sheet_layout(rows: list[list]) -> tuple[int, list[float], set[int]]:
    """How a sheet of :func:`summary_rows` is laid out for reading in Excel or WPS: the
    number of heading rows to freeze (a sheet opening with a line of text has two), each
    column's width in characters (a Chinese character counts two, at most ``MAX_WIDTH``),
    and the 0-based columns shown as percentages.

    >>> sheet_layout([["题目", "满意率"], ["政策知晓", 0.9088]])
    (1, [10.0, 8.0], {1})
    """
    headed = 2 if (len(rows) > 1 and len(rows[1]) > 1
                   and all(v is None for v in rows[0][1:])) else 1
    header = rows[headed - 1] if rows else []
    widths = [4.0] * max((len(r) for r in rows), default=0)
    for row in rows[headed - 1:]:
        if len(widths) > 1 and sum(v is not None for v in row) == 1:
            continue  # a closing note on a line of its own runs over the empty cells
        for i, value in enumerate(row):
            widths[i] = float(min(MAX_WIDTH, max(widths[i], _shown_width(value))))
    percent = {i for i, name in enumerate(header) if name in PERCENT_HEADERS}
    return headed, widths, percent


def _shown_width(value: object) -> int:
    """Characters a value takes in a cell, a Chinese character counting two, plus a margin."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2


def summary_rows(doc: ScoresDocument, campaign: Campaign | None = None) -> dict[str, list[list]]:
    """Sheet name -> rows (the first row is the header; 与上年比较, only when the campaign
    has a predecessor, opens with a line naming it)."""
    cells = [("pooled", "all", "合计（加权）", doc.pooled)]
    for breakdown in ("groups", "projects", "communities"):
        cells += [(breakdown, r.code, r.label, r) for r in getattr(doc, breakdown)]
    sheets = {"计算口径": _conventions_sheet(doc), "各题结果": _items_sheet(doc, cells),
              "各维度结果": _dimensions_sheet(doc, cells), "信度": _reliability_sheet(doc),
              "影响因素": _drivers_sheet(doc), "作答方式差异": _mode_effects_sheet(doc),
              "意见主题": _themes_sheet(doc), "指标得分": _indicator_sheet(doc, campaign)}
    if doc.year_over_year is not None:
        sheets["与上年比较"] = workbook_rows(
            doc.year_over_year, doc.dimension_labels(),
            {item.id: item_label(doc, item) for item in doc.items})
    return sheets


def _conventions_sheet(doc: ScoresDocument) -> list[list]:
    return ([["口径", "说明"]] + [list(pair) for pair in readable_conventions(doc.conventions)]
            + [["数据快照（sha256）", doc.snapshot],
               ["筛选条件", _filters_text(doc.filters)]])


def _filters_text(filters) -> str:
    """The dashboard filters of the document in words (全部 where not filtered)."""
    f = filters.model_dump(mode="json")
    parts = [f"住户类别：{GROUP_LABELS.get(f['group'], f['group']) if f['group'] else '全部'}",
             f"项目：{f['project'] or '全部'}", f"社区：{f['community'] or '全部'}",
             f"作答方式：{MODE_FILTERS.get(f['mode'], f['mode']) if f['mode'] else '全部'}"]
    if f["date_from"] or f["date_to"]:
        parts.append(f"提交日期：{f['date_from'] or '最早'}至{f['date_to'] or '最近'}")
    parts.append("含已剔除的问卷" if f["include_excluded"] else "不含已剔除的问卷")
    parts.append("含未核验的公开链接问卷" if f["include_unverified"]
                 else "不含未核验的公开链接问卷")
    parts.append("迭代加权" if f["weighting"] == "raked" else "设计权数")
    return "；".join(parts)


def _cell_row(prefix: list, cell: Cell | BreakdownRow, item_id: str) -> list:
    if cell.suppressed:
        return prefix + [cell.respondents, COUNTS_ONLY] + [None] * 9
    c = cell.items[item_id]
    if c.rate is None:
        return prefix + [c.respondents, c.n_valid] + [None] * 9
    return prefix + [c.respondents, c.n_valid, c.na_share, c.rate, c.rate_ci[0], c.rate_ci[1],
                     c.score, c.score_ci[0], c.score_ci[1], c.index,
                     f"{c.index_ci[0]}–{c.index_ci[1]}"]


def _items_sheet(doc: ScoresDocument, cells: list[tuple]) -> list[list]:
    rows = [["分组类型", "分组编码", "分组名称", "题目编码", "评价内容"] + CELL_HEADER]
    for breakdown, code, label, cell in cells:
        for item in doc.items:
            rows.append(_cell_row([BREAKDOWNS[breakdown], code, label, item.id,
                                   item_label(doc, item)], cell, item.id))
    return rows


def _dimensions_sheet(doc: ScoresDocument, cells: list[tuple]) -> list[list]:
    rows = [["分组类型", "分组编码", "维度编码", "维度", "满意率", "线性指数", "综合指数",
             "综合指数95%下限", "综合指数95%上限"]]
    labels = doc.dimension_labels()
    for breakdown, code, _label, cell in cells:
        if cell.suppressed:
            rows.append([BREAKDOWNS[breakdown], code, None, COUNTS_ONLY] + [None] * 5)
            continue
        comp = cell.composite_index
        estimate, (low, high) = (comp.estimate, comp.ci) if comp else (None, (None, None))
        for d, entry in cell.dimensions.items():
            rows.append([BREAKDOWNS[breakdown], code, d, labels.get(d, d), entry.rate,
                         entry.index, estimate, low, high])
    return rows


def _reliability_sheet(doc: ScoresDocument) -> list[list]:
    policies = doc.reliability.policies() if doc.reliability else []
    return [["缺失处理", "克隆巴赫α", "标准化α", "95%下限（Feldt）", "95%上限（Feldt）",
             "使用问卷数", "题目数"]] + [
        [POLICIES.get(p, p), r.alpha, r.standardized_alpha, r.ci[0], r.ci[1], r.n_used,
         r.n_items] for p, r in policies]


def _drivers_sheet(doc: ScoresDocument) -> list[list]:
    rows = [["维度编码", "维度", "重要性（与总体满意度的等级相关）", "p值", "表现（线性指数）",
             "象限"]]
    points = {p.dimension: p for p in (doc.ipa.points if doc.ipa else [])}
    for d in doc.drivers:
        p = points.get(d.dimension)
        rows.append([d.dimension, d.label, d.importance, d.p_value,
                     p.performance if p else None,
                     QUADRANT_NAMES.get(p.quadrant, p.quadrant) if p else None])
    return rows


def _compared_group(effect) -> str:
    """The group's name; a comparison of web with interviews (not paper) says so."""
    group = GROUP_LABELS.get(effect.group, effect.group)
    if effect.mode == "paper":
        return group
    return f"{group}（网络问卷对比{MODE_FILTERS[effect.mode]}）"


def _mode_effects_sheet(doc: ScoresDocument) -> list[list]:
    labels = {item.id: item_label(doc, item) for item in doc.items}
    return [["题目编码", "评价内容", "住户类别", "网络问卷数", "纸质问卷数", "曼-惠特尼U",
             "p值", "秩二列相关", "卡方检验p值"]] + [
        [m.item, labels.get(m.item, m.item), _compared_group(m), m.n_web,
         m.n_paper, m.mann_whitney_u, m.p_value, m.rank_biserial, m.chi_square_p]
        for m in doc.mode_effects]


def _themes_sheet(doc: ScoresDocument) -> list[list]:
    return [["主题词", "提及的意见条数", "出现次数", "示例"]] + [
        [t.term, t.comment_count, t.occurrences, (t.examples or [""])[0]]
        for t in (doc.comments.themes if doc.comments else [])]


def _indicator_sheet(doc: ScoresDocument, campaign: Campaign | None) -> list[list]:
    ind = doc.indicator
    if ind is None:
        return [["项目", "内容"]]
    return [["项目", "内容"], ["计分指标", f"总体{MEASURES.get(ind.measure, ind.measure)}"],
            ["实际完成值", ind.actual], ["标准误", ind.se], ["目标值", ind.target],
            ["分值", ind.points], ["得分", ind.points_earned],
            ["达到目标的概率", ind.probability_meets_target],
            ["计分规则", rule_text(campaign) if campaign else ind.rule]]
