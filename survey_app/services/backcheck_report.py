"""The report's back-check paragraph, in plain Chinese, when a back-check sample exists.

It joins the method paragraphs of the section 居民满意度调查情况 (before the data snapshot
sentence), so every template, the shipped one and a firm's own, carries it; a campaign
without a back-check draw gets no paragraph and its report is unchanged.
"""

from __future__ import annotations

from sqlmodel import Session

from survey_app.models import Campaign
from survey_app.services import backchecks
from survey_app.services.report_text import interval, pct, target_pct

#: How the items asked again are named in the report.
VISITED_NAME = "是否有工作人员上门"


def backcheck_paragraphs(campaign: Campaign, *, session: Session) -> list[str]:
    """The paragraph (a one-element list), or an empty list when nothing was drawn."""
    results = backchecks.results(campaign, session=session)
    if results is None:
        return []
    draw, s = results.draw, results.summary
    names = dict(backchecks.item_choices(campaign, session=session))
    asked = "、".join(f"“{names.get(item, item)}”" for item in draw.items)
    text = (f"为核实纸质问卷是否确由工作人员入户取得，评价机构从每名工作人员已完成的纸质问卷中"
            f"随机抽取{target_pct(draw.share)}（每人至少{draw.min_per_worker}份，随机种子"
            f"{draw.seed}）进行电话回访复核，共抽取{s.drawn}份（纸质问卷共{s.completed}份），"
            f"重新询问{asked}。")
    if not s.checked:
        return [text + "截至本报告生成时，尚无完成核对的回访。"]
    text += (f"已联系住户并完成核对{s.checked}份，其中{s.discrepant}份的回答与纸质问卷不一致，"
             f"不一致率为{pct(s.discrepancy.estimate)}（95%置信区间"
             f"{interval((s.discrepancy.low, s.discrepancy.high))}）。")
    threshold = target_pct(campaign.backcheck_threshold)
    if s.flagged:
        text += (f"有{len(s.flagged)}名工作人员的不一致率明显高于{threshold}（置信区间下限超过"
                 f"{threshold}），其经手的纸质问卷需进一步核查。")
    else:
        text += f"没有工作人员的不一致率明显高于{threshold}。"
    return [text]
