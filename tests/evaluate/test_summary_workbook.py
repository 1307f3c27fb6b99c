"""The summary workbook is headed in Chinese and names items neutrally: the rental-subsidy
rows never carry the 棚改 questionnaire's wording of a shared item."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from survey_app.services import campaigns, demo, scores
from tests.factories import login, make_user


@pytest.mark.demo_data
def test_summary_workbook_names_items_by_dimension_and_codes_in_words(app, client, session):
    login(client, make_user(session))
    book = load_workbook(io.BytesIO(client.get(f"/evaluate/{demo.SLUG}/export/summary").data))
    assert book.sheetnames == ["计算口径", "各题结果", "各维度结果", "信度", "影响因素",
                               "作答方式差异", "意见主题", "指标得分"]
    header, *rows = book["各题结果"].iter_rows(values_only=True)
    assert header[:5] == ("分组类型", "分组编码", "分组名称", "题目编码", "评价内容")
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    doc = scores.scores_document(campaign, session=session)
    wordings = {item.label for item in doc.items}  # the first questionnaire's question texts
    rental = [r for r in rows if r[1] == "rental_subsidy"]
    assert {r[4] for r in rental} == set(doc.dimension_labels().values()) | {"总体满意度"}
    assert not {r[4] for r in rows} & wordings
    assert {r[0] for r in rows} == {"合计（加权）", "住户类别", "项目", "社区"}
    policies = [r[0] for r in book["信度"].iter_rows(min_row=2, values_only=True)]
    assert policies == ["成对删除", "列表删除"]
    quadrants = {r[5] for r in book["影响因素"].iter_rows(min_row=2, values_only=True)}
    assert quadrants <= {"重点改进区", "继续保持区", "次要改进区", "过度投入区"}
    groups = {r[2] for r in book["作答方式差异"].iter_rows(min_row=2, values_only=True)}
    assert groups == {"棚改货币化安置户", "租赁补贴户"}
    indicator = dict(book["指标得分"].iter_rows(min_row=2, values_only=True))
    assert indicator["得分"] == doc.indicator.points_earned
    assert indicator["计分规则"].startswith("比例法计分")
