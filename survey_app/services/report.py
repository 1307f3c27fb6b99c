"""The report section 居民满意度调查情况 as a Word document (python-docx).

Numbers come from the scores and progress documents only. Charts are drawn with matplotlib
(python-docx cannot embed SVG) using a Noto Sans CJK font file when one is installed; without
one the section keeps its tables and says that the charts were left out.
"""

from __future__ import annotations

import io
from pathlib import Path

from sqlmodel import Session

from survey_app.models import Campaign
from survey_app.services import charts
from survey_app.services.charts import RateBar
from survey_app.services.progress import progress_document
from survey_app.services.score_filters import MIN_CELL
from survey_app.services.scores_model import (
    FullCell,
    Indicator,
    ProgressDocument,
    ScoresDocument,
)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CJK_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
MODE_LABELS = {"web_token": "网络问卷（专属链接）", "web_open": "网络问卷（公开链接）",
               "paper": "纸质问卷（入户）"}


def cjk_font_path() -> str | None:
    for path in CJK_FONT_PATHS:
        if Path(path).exists():
            return path
    found = sorted(Path("/usr/share/fonts").rglob("NotoSansCJK*Regular*"))
    return str(found[0]) if found else None


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _num(v, d=2) -> str:
    return "—" if v is None else f"{v:.{d}f}"


def _table(document, header: list[str], rows: list[list[str]]):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = str(text)
    return table


def _chart_png(rows: list[RateBar], title: str, target: float | None) -> bytes | None:
    font = cjk_font_path()
    if font is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    prop = font_manager.FontProperties(fname=font)
    shown = [r for r in rows if r.rate is not None]
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(shown) + 1.2), dpi=150)
    ys = list(range(len(shown)))[::-1]
    rates = [r.rate * 100 for r in shown]
    err = [[(r.rate - r.ci[0]) * 100 for r in shown],
           [(r.ci[1] - r.rate) * 100 for r in shown]]
    ax.barh(ys, rates, xerr=err, color="#0b5cad", alpha=0.75, capsize=3)
    ax.set_yticks(ys, [r.label for r in shown], fontproperties=prop)
    ax.set_xlim(0, 100)
    ax.set_xlabel("满意率（%），误差线为95%置信区间", fontproperties=prop)
    ax.set_title(title, fontproperties=prop)
    if target is not None:
        ax.axvline(target * 100, color="#b00020", linestyle="--")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def build_report(campaign: Campaign, doc: ScoresDocument, *, session: Session,
                 chain_head: str | None = None) -> bytes:
    """The .docx bytes of the section 居民满意度调查情况 for the scores document ``doc``.

    ``chain_head``: the audit chain's head after the document's snapshot was anchored in it
    (:func:`survey_app.services.audit_chain.anchor_snapshot`); the report prints its start,
    so a later rewrite of the trail up to the report no longer matches the printed head.
    """
    from docx import Document  # python-docx only when a report is built
    from docx.shared import Pt

    progress = progress_document(campaign, session=session)
    d = Document()
    d.styles["Normal"].font.size = Pt(10.5)
    d.add_heading("居民满意度调查情况", level=1)
    _method_section(d, campaign, progress)
    _results_section(d, campaign, doc)
    _reliability_section(d, doc)
    _comments_section(d, doc)
    _indicator_section(d, doc.indicator)
    d.add_heading("六、数据快照", level=2)
    anchored = f"，审计链头 {chain_head[:16]}" if chain_head else ""
    d.add_paragraph(f"本节数据基于{doc.n_respondents}份计入统计的问卷，数据快照标识（sha256）："
                    f"{doc.snapshot}{anchored}。"
                    "可用导出的去标识化数据和 analysis 程序包复算全部数值。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _method_section(d, campaign: Campaign, progress: ProgressDocument) -> None:
    d.add_heading("一、调查方法", level=2)
    period = (f"{campaign.opens_on:%Y年%m月%d日}至{campaign.closes_on:%Y年%m月%d日}"
              if campaign.opens_on and campaign.closes_on else "见调查记录")
    modes = "、".join(f"{MODE_LABELS.get(m, m)}{n}份"
                     for m, n in progress.completed_by_mode.items())
    d.add_paragraph(
        f"调查对象为{campaign.title}涉及的住户。抽样框为项目住户名册，共{progress.households}户，"
        f"按住户类别分层随机抽取{progress.sampled}户。调查时间为{period}。"
        f"共收回有效问卷{progress.completed}份（{modes}），其中样本户{progress.completed_from_sample}份、"
        f"公开链接{progress.completed_open_link}份；样本户回答率（AAPOR RR1）"
        f"{_pct(progress.response_rate)}。")
    _table(d, ["住户类别", "名册户数", "抽样户数", "完成数", "回答率"],
           [[g.label, g.households, g.sampled, g.completed, _pct(g.response_rate)]
            for g in progress.groups])
    d.add_paragraph(
        "满意率为“非常满意”与“满意”之和占有效回答的比例（“一般”不计入满意，“不清楚”不计入分母）；"
        "满意度得分按100/80/60/40/20分计；合计值按各类住户名册户数加权（分层估计）。"
        "满意率区间为按有效样本量计算的Wilson 95%置信区间，指数区间为含有限总体校正的正态区间。"
        f"少于{MIN_CELL}人的分组只报告人数。")


def _rate_interval(c) -> str:
    return "—" if c.rate is None else f"{_pct(c.rate_ci[0])}～{_pct(c.rate_ci[1])}"


def _results_section(d, campaign: Campaign, doc: ScoresDocument) -> None:
    d.add_heading("二、调查结果", level=2)
    pooled = doc.pooled
    if pooled.suppressed:
        d.add_paragraph(f"有效问卷少于{MIN_CELL}份，只报告人数：{pooled.respondents}。")
        return
    _item_table(d, doc, pooled)
    comp = pooled.composite_index
    if comp:
        d.add_paragraph(f"综合满意度指数（各维度等权）为{_num(comp.estimate)}，95%置信区间"
                        f"{_num(comp.ci[0])}～{_num(comp.ci[1])}。")
    _table(d, ["分组", "名称", "人数", "总体满意率", "95%置信区间", "满意度得分"],
           _breakdown_rows(doc))
    target = campaign.indicator_target if campaign.indicator_measure == "rate" else None
    png = _chart_png(charts.item_rate_rows(doc, pooled), "各维度满意率", target)
    if png:
        from docx.shared import Cm

        d.add_picture(io.BytesIO(png), width=Cm(15))
    else:
        d.add_paragraph("（未找到中文字体，图表从略，数据见上表。）")


def _item_table(d, doc: ScoresDocument, cell: FullCell) -> None:
    rows = []
    for item in doc.items:
        c = cell.items[item.id]
        rows.append([charts.item_label(doc, item), c.n_valid, _pct(c.na_share), _pct(c.rate),
                     _rate_interval(c), _num(c.score), _num(c.index)])
    _table(d, ["评价内容", "有效回答", "不清楚占比", "满意率", "95%置信区间", "满意度得分",
               "线性指数"], rows)


def _breakdown_rows(doc: ScoresDocument) -> list[list]:
    """The overall item in every group, project and community (suppressed: counts only)."""
    rows = []
    for title, cells in (("住户类别", doc.groups), ("项目", doc.projects),
                         ("社区", doc.communities)):
        for r in cells:
            if r.suppressed:
                rows.append([title, r.label, r.respondents, "仅显示人数", "—", "—"])
                continue
            c = r.items[doc.overall_item]
            rows.append([title, r.label, r.respondents, _pct(c.rate), _rate_interval(c),
                         _num(c.score)])
    return rows


def _reliability_section(d, doc: ScoresDocument) -> None:
    d.add_heading("三、信度分析", level=2)
    policies = doc.reliability.policies() if doc.reliability else []
    _table(d, ["缺失处理", "Cronbach α", "95%置信区间（Feldt）", "使用样本", "题目数"],
           [["成对删除" if p == "pairwise" else "列表删除", _num(r.alpha, 3),
             f"{_num(r.ci[0], 3)}～{_num(r.ci[1], 3)}", r.n_used, r.n_items]
            for p, r in policies])


def _comments_section(d, doc: ScoresDocument) -> None:
    d.add_heading("四、群众反映的主要问题", level=2)
    themes = doc.comments.themes if doc.comments else []
    if not themes:
        d.add_paragraph("无开放性意见。")
        return
    for t in themes[:8]:
        example = t.examples[0] if t.examples else ""
        d.add_paragraph(f"“{t.term}”：{t.comment_count}条意见提及。例如：{example}",
                        style="List Bullet")


def _indicator_section(d, ind: Indicator | None) -> None:
    d.add_heading("五、满意度指标得分", level=2)
    if ind is None:
        d.add_paragraph("有效问卷不足，未计算指标得分。")
        return
    measure = {"rate": "满意率", "score": "满意度得分", "index": "线性指数"}[ind.measure]
    value = _pct if ind.measure == "rate" else _num
    _table(d, ["项目", "内容"], [
        ["计分指标", f"总体满意度{measure}"], ["实际值", value(ind.actual)],
        ["目标值", value(ind.target)], ["分值", _num(ind.points)],
        ["得分", _num(ind.points_earned)],
        ["达到目标的概率", _pct(ind.probability_meets_target)], ["计分规则", ind.rule]])
    d.add_paragraph(f"满意度指标得分为{_num(ind.points_earned)}分（满分{_num(ind.points)}分）。"
                    f"计算方法：{ind.convention}。")
