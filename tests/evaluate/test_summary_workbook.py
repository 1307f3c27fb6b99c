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
                               "作答方式差异", "意见主题", "指标得分", "与上年比较"]
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
    # The dashboard's words for the same rows (they disagreed: 列表删除, 过度投入区).
    assert policies == ["成对删除", "整行删除"]
    quadrants = {r[5] for r in book["影响因素"].iter_rows(min_row=2, values_only=True)}
    assert quadrants <= {"重点改进区", "继续保持区", "次要改进区", "供给过度区"}
    groups = {r[2] for r in book["作答方式差异"].iter_rows(min_row=2, values_only=True)}
    assert groups == {"棚改货币化安置户", "租赁补贴户"}
    indicator = dict(book["指标得分"].iter_rows(min_row=2, values_only=True))
    assert indicator["得分"] == doc.indicator.points_earned
    assert indicator["计分规则"].startswith("比例法计分")


@pytest.mark.demo_data
def test_year_over_year_sheet_carries_each_figure_of_the_section(app, client, session):
    login(client, make_user(session))
    book = load_workbook(io.BytesIO(client.get(f"/evaluate/{demo.SLUG}/export/summary").data))
    title, header, *rows = book["与上年比较"].iter_rows(values_only=True)
    assert title[0].startswith("上年调查：赫山区2020年度") and "相同的筛选条件" in title[0]
    assert header[3] == "指标" and header[14] == "是否达到“不低于上年”"
    *figures, reworded = rows
    assert reworded[0] == "问卷措辞与上年不同（口径变化）的题目：信息公开"
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    section = scores.scores_document(campaign, session=session).year_over_year
    assert len(figures) == len(section.figures)
    by_label = {r[3]: r for r in figures}
    rate = section.figure("overall_rate")
    row = by_label["总体满意率"]
    assert row[:3] == ("合计（加权）", "all", "全部住户")
    assert row[5:15] == (rate.previous, rate.previous_se, rate.current, rate.current_se,
                         rate.change, rate.change_se, *rate.change_ci,
                         rate.probability_not_lower, "达到")
    changed = by_label["综合满意度指数"]
    assert changed[9] is None and changed[14] == "口径变化，未比较"
    assert "口径变化" in changed[15]
    fallen = by_label["投诉处理满意度指数"]
    assert fallen[14] == "未达到" and fallen[9] < 0
    assert by_label["租赁补贴户总体满意率"][:3] == ("住户类别", "rental_subsidy", "租赁补贴户")


@pytest.mark.demo_data
def test_no_year_over_year_sheet_without_last_year(app, client, session):
    from survey_app.services import demo_previous

    login(client, make_user(session))
    data = client.get(f"/evaluate/{demo_previous.SLUG}/export/summary").data
    assert "与上年比较" not in load_workbook(io.BytesIO(data)).sheetnames


@pytest.mark.demo_data
def test_summary_workbook_opens_readable_with_rates_as_percentages(app, client, session):
    """Opened in Excel or WPS, the headings are not cut off at the default width, stay in
    view when scrolling, and a satisfaction rate reads 90.88% (the value stays 0.9088)."""
    login(client, make_user(session))
    book = load_workbook(io.BytesIO(client.get(f"/evaluate/{demo.SLUG}/export/summary").data))
    items = book["各题结果"]
    assert items.freeze_panes == "A2" and book["与上年比较"].freeze_panes == "A3"
    header = [c.value for c in items[1]]
    for column, name in enumerate(header, start=1):
        letter = items.cell(row=1, column=column).column_letter
        shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in name)  # a Chinese character: 2
        assert items.column_dimensions[letter].width >= shown, name
    rate = items.cell(row=2, column=header.index("满意率") + 1)
    assert isinstance(rate.value, float) and 0 < rate.value < 1
    assert rate.number_format == "0.00%"
    assert items.cell(row=2, column=header.index("满意度得分") + 1).number_format == "General"
    notes = book["计算口径"]
    assert notes.column_dimensions["B"].width >= 40
