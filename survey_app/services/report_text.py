"""The sentences of the report section 居民满意度调查情况, in plain Chinese.

Each function returns the paragraphs (a list of sentences strings) for one part of the
Word template (:mod:`survey_app.services.report`), from the scores and progress documents
only, so that a number can only differ from the dashboard's in formatting. Read aloud, the
section should sound like an evaluation report: numbers inside sentences, what they mean
next to them, and no formula or English term.
"""

from __future__ import annotations

import re
from datetime import date

from survey_app.services.charts import item_label
from survey_app.services.score_filters import MIN_CELL
from survey_app.services.scores_model import (
    Indicator,
    ProgressDocument,
    ScoresDocument,
    Validity,
)
from survey_app.services.text_scrub import scrub

MEASURE_NAMES = {"rate": "满意率", "score": "满意度得分", "index": "满意度指数"}
MODE_NAMES = {"web_token": "专属链接网络问卷", "web_open": "公开链接网络问卷",
              "paper": "入户纸质问卷", "interview": "入户访问（手机）"}
NUMERALS = "一二三四五六七八九十"
#: Importance-performance quadrants (analysis' names) as a Chinese report names them.
QUADRANT_NAMES = {"concentrate here": "重点改进区", "keep up the good work": "继续保持区",
                  "low priority": "次要改进区", "possible overkill": "供给过度区"}
#: Digit runs that could be a phone, ID, room or plate number are masked in quotations.
_IDENTIFYING = re.compile(r"[0-9０-９]{3,}[0-9０-９Xx]*")
#: Below this rank correlation no dimension is said to drive overall satisfaction.
WEAK_CORRELATION = 0.1
_CLAUSE = re.compile(r"[，。；！？、,.;!?\s]+")


def pct(v: float | None) -> str:
    """A share in percent with one decimal ("89.4%"); "—" when undefined."""
    return "—" if v is None else f"{v * 100:.1f}%"


def target_pct(v: float) -> str:
    """A target as it was set ("90%", "92.5%")."""
    return f"{round(v * 100, 2):g}%"


def day(d: date) -> str:
    """A date as Chinese reports write it: 2021年11月1日."""
    return f"{d.year}年{d.month}月{d.day}日"


def interval(ci, fmt=pct) -> str:
    return "—" if not ci or ci[0] is None else f"{fmt(ci[0])}～{fmt(ci[1])}"


def survey_period(opens_on: date | None, closes_on: date | None,
                  first: date | None, last: date | None) -> str:
    """The fieldwork period from the campaign's dates; where a date is not set, the first
    or last counted submission stands in, and the sentence says so."""
    start, end = opens_on or first, closes_on or last
    if start is None or end is None:
        return "调查尚未回收问卷"
    text = f"{day(start)}至{day(end)}"
    if closes_on is None:
        text += "（调查尚未结束，截止日期取最后一份计入统计问卷的提交日期）"
    return text


def unanswered_sampled(progress: ProgressDocument) -> int:
    """Sampled households without a counted response (RR1 = completes / sampled; roster
    households outside the sample may have answered through the open link too)."""
    return progress.sampled - round(progress.sampled * (progress.response_rate or 0))


def _unverified_fate(included: bool) -> str:
    return "经评价人员决定计入满意度测评结果" if included else "未计入满意度测评结果"


def overview(campaign, progress: ProgressDocument, period: str, *,
             unverified_included: bool = False) -> list[str]:
    """Who was surveyed, when, how the sample was drawn and what came back."""
    groups = "、".join(f"{g.label}{g.households}户" for g in progress.groups)
    modes = "、".join(f"{MODE_NAMES.get(m, m)}{n}份"
                      for m, n in progress.completed_by_mode.items() if n)
    missing = unanswered_sampled(progress)
    out = [
        f"本次调查对象为{campaign.district}{campaign.year}年度保障性安居工程的受益住户，"
        f"包括{groups}，合计{progress.households}户。调查时间为{period}。",
        f"调查以各项目住户名册为抽样框，按住户类别分层随机抽取样本户{progress.sampled}户，"
        "向样本户发放专属问卷链接，未能在线作答的由社区工作人员入户发放纸质问卷；"
        "同时在社区张贴公开问卷二维码，住户须先以告知书上的户号和核验码、或户主身份证号后6位"
        "和登记电话核验住户，每户只计一次。",
        f"共回收有效问卷{progress.completed}份，其中名册住户{progress.completed_from_sample}"
        f"份、未能核验住户的公开链接问卷{progress.completed_open_link}份；"
        f"按作答方式分，{modes or '无'}。"
        f"样本户回答率为{pct(progress.response_rate)}，即每100户样本户中约有"
        f"{round((progress.response_rate or 0) * 100)}户完成了问卷，"
        f"未作答的样本户{missing}户。",
    ]
    if progress.completed_open_link:
        out.append(f"未能核验住户的公开链接问卷无法确认来自调查名单上的住户，"
                   f"{_unverified_fate(unverified_included)}。")
    if progress.excluded:
        out.append(f"另有{progress.excluded}份问卷经评价人员审核剔除，未计入统计。")
    return out


def sample_rows(progress: ProgressDocument, *,
                unverified_included: bool = False) -> tuple[list[dict], str]:
    """Rows of the sample table (groups and their total) and the note under it."""
    rows = [{"label": g.label, "households": g.households, "sampled": g.sampled,
             "completed": g.completed, "rate": pct(g.response_rate)} for g in progress.groups]
    rows.append({"label": "合计", "households": progress.households,
                 "sampled": progress.sampled, "completed": progress.completed_from_sample,
                 "rate": pct(progress.response_rate)})
    note = ("注：回答率为完成问卷的样本户占样本户的比例。")
    if progress.completed_open_link:
        note += (f"另有未能核验住户的公开链接问卷{progress.completed_open_link}份，"
                 f"不属于任何住户类别，未列入本表，{_unverified_fate(unverified_included)}。")
    return rows, note


def _overall(doc: ScoresDocument, measure: str):
    cell = doc.pooled.items[doc.overall_item]
    value = {"rate": cell.rate, "score": cell.score, "index": cell.index}[measure]
    ci = {"rate": cell.rate_ci, "score": cell.score_ci, "index": cell.index_ci}[measure]
    return value, ci


def headline(doc: ScoresDocument) -> list[str]:
    """The sentence the report is read for: rate, interval, target, points; and its meaning."""
    ind = doc.indicator
    if doc.pooled.suppressed:
        return [f"有效问卷少于{MIN_CELL}份，只报告人数：计入统计的问卷{doc.n_respondents}份，"
                "不计算满意率和满意度指标得分。"]
    if ind is None or ind.actual is None:
        return [f"计入统计的有效问卷{doc.n_respondents}份中没有总体满意度的有效回答，"
                "未计算满意度指标得分。"]
    name = MEASURE_NAMES[ind.measure]
    fmt, tfmt = (pct, target_pct) if ind.measure == "rate" else (_two, _two)
    _value, ci = _overall(doc, ind.measure)
    met = ind.actual >= ind.target
    first = (f"调查结果显示，居民总体{name}为{fmt(ind.actual)}，95%置信区间为"
             f"{interval(ci, fmt)}；年度目标值为不低于{tfmt(ind.target)}，实际完成值"
             f"{'达到' if met else '未达到'}目标值，满意度指标分值{ind.points:g}分，"
             f"得{ind.points_earned:.2f}分。")
    return [first, _meaning(ind, ci, fmt)]


def _two(v: float) -> str:
    return f"{v:.2f}"


def _meaning(ind: Indicator, ci, fmt) -> str:
    chance = ind.probability_meets_target
    chance_text = ("" if chance is None
                   else f"按抽样误差估计，真实值达到目标的可能性约为{pct(chance)}。")
    gap = ind.target - ind.actual
    gap_text = (f"{gap * 100:.1f}个百分点" if ind.measure == "rate" else f"{gap:.2f}分")
    if ind.actual < ind.target:
        return (f"实际完成值比目标值低{gap_text}，按计分规则扣{ind.points - ind.points_earned:.2f}"
                f"分。{chance_text}")
    if ci and ci[0] is not None and ci[0] >= ind.target:
        return ("置信区间的下限也不低于目标值，即使考虑抽样误差，达到目标的结论也是可靠的，"
                "该指标得满分。")
    return ("但置信区间的下限低于目标值，达到目标的结论受抽样误差影响，表述时宜说明这一点。"
            + chance_text)


def year_over_year_note(doc: ScoresDocument) -> str:
    """The note under the table 与上年比较 ("" without a predecessor)."""
    y = doc.year_over_year
    if y is None:
        return ""
    year = "" if str(y.previous_year) in y.previous_title else f"{y.previous_year}年度，"
    return (f"注：上年为{y.previous_title}（{year}有效问卷{y.previous_respondents}份），"
            "两年采用相同的筛选条件和加权方法。变化为本年值减上年值，满意率的变化以百分点表示；"
            "两年为相互独立的抽样调查，变化的95%置信区间按两年标准误平方和的平方根计算；"
            "“可能性”为按抽样误差估计的真实变化不低于0的可能性。问卷题目措辞与上年不同的指标"
            "属口径变化，未作比较。")


def item_rows(doc: ScoresDocument) -> list[dict]:
    """Rows of the item table: each item by its neutral (dimension) label."""
    rows = []
    for item in doc.items:
        c = doc.pooled.items[item.id]
        rows.append({"label": item_label(doc, item), "n_valid": c.n_valid, "rate": pct(c.rate),
                     "ci": interval(c.rate_ci),
                     "score": "—" if c.score is None else f"{c.score:.2f}"})
    return rows


def dimension_text(doc: ScoresDocument) -> list[str]:
    """Highest and lowest item, the composite index, and the groups and communities."""
    rated = [(item_label(doc, i), doc.pooled.items[i.id].rate) for i in doc.items
             if not i.overall and doc.pooled.items[i.id].rate is not None]
    out = []
    if rated:
        hi, lo = max(rated, key=lambda r: r[1]), min(rated, key=lambda r: r[1])
        out.append(f"在各项评价内容中，满意率最高的是{hi[0]}（{pct(hi[1])}），最低的是"
                   f"{lo[0]}（{pct(lo[1])}）。")
    comp = doc.pooled.composite_index
    if comp and comp.estimate is not None:
        out.append(f"将各维度等权合成的综合满意度指数为{comp.estimate:.2f}（满分100），"
                   f"95%置信区间为{interval(comp.ci, _two)}。")
    groups = [f"{g.label}为{pct(g.items[doc.overall_item].rate)}" for g in doc.groups
              if not g.suppressed]
    if groups:
        out.append("分住户类别看，总体满意率" + "，".join(groups) + "。")
    shown = [c for c in doc.communities if not c.suppressed
             and c.items[doc.overall_item].rate is not None]
    if len(shown) > 1:
        low = min(shown, key=lambda c: c.items[doc.overall_item].rate)
        out.append(f"各社区中总体满意率最低的是{low.label}（"
                   f"{pct(low.items[doc.overall_item].rate)}），可作为整改的重点区域。")
    return out


def breakdown_rows(doc: ScoresDocument) -> tuple[list[dict], str]:
    """The overall item in every group, project and community, and the note under them."""
    rows = []
    for kind, cells in (("住户类别", doc.groups), ("项目", doc.projects),
                        ("社区", doc.communities)):
        for r in cells:
            c = None if r.suppressed else r.items[doc.overall_item]
            rows.append({"kind": kind, "label": r.label, "respondents": r.respondents,
                         "rate": "不单独报告" if c is None else pct(c.rate),
                         "ci": "—" if c is None else interval(c.rate_ci)})
    sums = "、".join(f"{kind}{sum(r.respondents for r in cells)}份" for kind, cells in
                    (("住户类别", doc.groups), ("项目", doc.projects), ("社区", doc.communities))
                    if cells)
    note = (f"注：少于{MIN_CELL}份问卷的分组不单独报告满意率。各类分组的问卷数合计为{sums}"
            f"（计入统计的问卷共{doc.n_respondents}份）；不属于任何项目或社区的问卷"
            "（如公开链接问卷）只计入住户类别和合计。")
    return rows, note


def _alpha_meaning(alpha: float) -> str:
    if alpha >= 0.9:
        return "信度很好"
    if alpha >= 0.8:
        return "信度良好"
    if alpha >= 0.7:
        return "信度可以接受"
    return "一致性偏低，各维度的结果宜分别解读，综合指数应谨慎使用"


def analysis_text(doc: ScoresDocument) -> list[str]:
    """Reliability and drivers, a sentence or two each."""
    out = []
    alpha = doc.reliability.pairwise if doc.reliability else None
    if alpha and alpha.alpha is not None:
        out.append(f"问卷{alpha.n_items}个分项评价题的内部一致性信度（克隆巴赫α系数）为"
                   f"{alpha.alpha:.2f}，95%置信区间为{interval(alpha.ci, _three)}。α系数反映"
                   f"各题目是否在测量同一种满意程度，本次结果说明问卷{_alpha_meaning(alpha.alpha)}。")
    else:
        out.append("有效问卷过少，未计算问卷信度。")
    out.extend(_validity_text(doc.validity))
    drivers = sorted((d for d in doc.drivers if d.importance is not None),
                     key=lambda d: -d.importance)
    if not drivers:
        return out
    top = drivers[0]
    if top.importance < WEAK_CORRELATION or top.p_value is None or top.p_value >= 0.05:
        out.append(f"各维度满意程度与总体满意度的等级相关都很弱（最大为{top.importance:.2f}），"
                   "本次数据看不出哪一方面对总体满意度的影响更大，改进方向宜结合下文群众意见确定。")
        return out
    named = "、".join(f"{d.label}（{d.importance:.2f}）" for d in drivers[:2])
    out.append(f"以各维度满意程度与总体满意度的等级相关系数衡量其影响，影响最大的是{named}；"
               "系数越大，该方面的改进对提升总体满意度的作用越大。")
    focus = [p.label for p in (doc.ipa.points if doc.ipa else [])
             if QUADRANT_NAMES.get(p.quadrant) == "重点改进区"]
    if focus:
        out.append("对照各维度的影响大小和满意程度，" + "、".join(focus)
                   + "影响较大而满意程度相对较低，建议作为优先改进的方面。")
    return out


def _validity_text(v: Validity | None) -> list[str]:
    """One sentence on the all-items one-factor model and the overall item's R² (none
    without a validity section)."""
    if v is None:
        return []
    a, o = v.all_items, v.overall
    parts = []
    if a.composite_reliability is not None:
        met = a.composite_reliability >= 0.7 and a.average_variance_extracted >= 0.5
        left_out = "、".join(d.label for d in v.dimensions if not set(d.items) <= set(a.items))
        left_out = f"（不含作答不足半数的{left_out}）" if left_out else ""
        parts.append(f"以单因子模型检验结构效度，{len(a.items)}个分项评价题{left_out}的"
                     f"组合信度（CR）为"
                     f"{a.composite_reliability:.2f}、平均方差抽取量（AVE）为"
                     f"{a.average_variance_extracted:.2f}（一般要求CR不低于0.7、AVE不低于0.5），"
                     + ("达到通常要求" if met else "未达到通常要求，各题测量的不是同一方面，"
                        "宜按维度分别解读")
                     + ("（模型出现Heywood情形，仅供参考）" if a.reason == "heywood" else ""))
    if o.r_squared is not None:
        parts.append(f"各维度满意程度对总体满意度的解释度（R²）为{o.r_squared:.2f}，即总体满意度"
                     f"的差异中约{pct(max(o.r_squared, 0))}可由各维度的满意程度解释")
    return ["；".join(parts) + "。" if parts else "有效问卷过少，未计算效度指标。"]


def _three(v: float) -> str:
    return f"{v:.2f}"


def deidentified(text: str, limit: int = 60) -> str:
    """A resident's comment fit to quote: scrubbed (already, by the comment copy it comes
    from: ``scrub`` is idempotent), number runs masked, long text shortened."""
    text = _IDENTIFYING.sub(lambda m: "＊" * len(m.group()), scrub(text).strip())
    return text if len(text) <= limit else text[:limit] + "……"


def _phrase(term: str, example: str) -> str:
    """The clause of ``example`` holding ``term``: a short phrase naming the problem."""
    clauses = [c for c in _CLAUSE.split(example) if term in c]
    return min(clauses, key=len) if clauses else term


def problems(doc: ScoresDocument, limit: int = 6) -> tuple[list[str], list[str]]:
    """The introduction and one line per problem: a short phrase, how many comments mention
    its key word, and one quoted, de-identified comment. Themes quoting the same comment
    are one problem (the word most comments mention names it)."""
    comments = doc.comments
    written = (comments.n_comments - comments.n_empty) if comments else 0
    if not written:
        return ["本次调查没有住户填写意见或建议。"], []
    intro = (f"共有{written}份问卷填写了意见或建议，占计入统计问卷的"
             f"{pct(written / doc.n_respondents)}。按提及的意见条数排列，群众反映较多的问题如下"
             "（每项引用一条原话，已隐去可能识别个人的信息）：")
    lines, quoted = [], set()
    for theme in comments.themes:
        example = theme.examples[0] if theme.examples else ""
        if example in quoted:
            continue
        quoted.add(example)
        number = NUMERALS[len(lines)] if len(lines) < len(NUMERALS) else str(len(lines) + 1)
        phrase = deidentified(_phrase(theme.term, example), 20)
        lines.append(f"（{number}）{phrase}。提及“{theme.term}”的意见{theme.comment_count}条，"
                     f"如：“{deidentified(example)}”")
        if len(lines) == limit:
            break
    return [intro], lines


def rule_text(campaign) -> str:
    """The campaign's scoring rule in words (no formula)."""
    params = campaign.indicator_rule_params or {}
    if campaign.indicator_rule == "stepwise":
        return (f"扣分法计分：实际完成值每低于目标值1个百分点扣"
                f"{float(params.get('deduction_per_point', 0.5)):g}分，最低得"
                f"{float(params.get('floor', 0.0)):g}分")
    if campaign.indicator_rule == "bands":
        bands = "；".join(f"达到{target_pct(float(t))}得{float(p):g}分"
                         for t, p in params.get("bands", []))
        return f"分档计分：{bands}"
    return ("比例法计分：实际完成值达到目标值的得满分，未达到的按实际完成值与目标值之比"
            "折算得分")


def indicator_text(campaign, doc: ScoresDocument, note: str) -> list[str]:
    out = [f"满意度指标按{rule_text(campaign)}。指标完成情况见下表。"]
    ind = doc.indicator
    if ind and ind.actual is not None and ind.actual < ind.target and not note:
        out.append("实际完成值未达到目标值，偏差原因分析及改进措施尚待评价人员填写。")
    return out


def method_text(doc: ScoresDocument, progress: ProgressDocument,
                chain_head: str | None) -> list[str]:
    """Definitions, weighting, intervals, and the limitations in plain words."""
    out = [
        "满意率为回答“非常满意”和“满意”的人数占有效回答人数的比例；“一般”不计为满意，"
        "回答“不清楚”的不计入有效回答。满意度得分将五个等级依次记为100、80、60、40、20分后取平均。",
        "两类住户的抽样比例不同，合计结果按各类住户的名册户数加权计算，使每类住户在合计中的"
        "份量与其实际户数相当；各类住户的结果按本类问卷直接计算。",
        "置信区间反映抽样带来的不确定性：按同样方法反复抽样调查，约95%的区间会包含全部住户的"
        "真实满意率。",
    ]
    limits = []
    missing = unanswered_sampled(progress)
    if missing:
        raked = doc.filters.weighting == "raked"
        # The non-response sentence after it says why that may bias the results.
        said_after = doc.nonresponse is not None and bool(doc.nonresponse.limitation_zh)
        limits.append(f"样本户中有{missing}户未作答，"
                      + ("" if said_after else "若未作答住户的满意程度与作答住户不同，结果会有"
                         "偏差，")
                      + ("本节结果已按社区和项目构成作加权调整" if raked
                         else "本节结果未作加权调整"))
    if doc.nonresponse is not None and doc.nonresponse.limitation_zh:
        # Response rates by community and the raked-vs-design difference (issue 18).
        limits.append(doc.nonresponse.limitation_zh.rstrip("。"))
    verified_open = (progress.completed_by_mode.get("web_open", 0)
                     - progress.completed_open_link)
    if verified_open:
        limits.append(f"核验住户后通过公开链接作答的问卷{verified_open}份，占有效问卷的"
                      f"{pct(verified_open / max(progress.completed, 1))}，"
                      "这部分住户是自愿参与而非随机抽取，代表性弱于样本户")
    if progress.completed_open_link:
        limits.append(f"未能核验住户的公开链接问卷{progress.completed_open_link}份"
                      f"{_unverified_fate(doc.filters.include_unverified)}，"
                      "若这部分作答者确为受益住户，其意见未能反映在结果中"
                      if not doc.filters.include_unverified else
                      f"未能核验住户的公开链接问卷{progress.completed_open_link}份经评价人员"
                      "决定计入，无法确认其来自调查名单上的住户")
    mode = _mode_difference(doc)
    if mode:
        limits.append(mode)
    if limits:
        out.append("本次调查的局限主要有：" + "；".join(
            f"{NUMERALS[i]}是{text}" for i, text in enumerate(limits)) + "。")
    if not mode:
        out.append(_mode_sentence(doc))
    anchored = f"，审计记录校验码{chain_head[:16]}" if chain_head else ""
    out.append(f"本节数据基于{doc.n_respondents}份计入统计的问卷，数据快照标识为{doc.snapshot}"
               f"{anchored}；用导出的去标识化数据可复算本节全部数值。")
    return out


def _mode_comparisons(doc: ScoresDocument) -> list:
    # Web against paper; the comparison with interviews (issue 22) is on the dashboard only.
    return [m for m in doc.mode_effects
            if m.mode == "paper" and not m.suppressed and m.p_value is not None]


def _mode_difference(doc: ScoresDocument) -> str | None:
    """The limitation clause on web vs paper answers, or None when they do not differ."""
    differing = sorted({item_label(doc, i) for m in _mode_comparisons(doc) if m.p_value < 0.05
                        for i in doc.items if i.id == m.item})
    if not differing:
        return None
    return ("在同一类住户内比较网络问卷与纸质问卷，" + "、".join(differing)
            + "的回答存在明显差异（显著性水平0.05），可能与入户作答时有工作人员在场有关，"
            "解读这些题目时宜加以说明")


def _mode_sentence(doc: ScoresDocument) -> str:
    if not _mode_comparisons(doc):
        return "作答方式方面，网络问卷与纸质问卷的份数不足以比较两者的差异。"
    return ("作答方式方面，在同一类住户内比较网络问卷与纸质问卷，各题回答没有明显差异，"
            "作答方式对结果的影响可以忽略。")
