"""The bureau's indicator table: the 预算绩效 form's rows on the dashboard and as XLSX, with
the evaluator's 偏差原因分析 kept with the campaign and audited."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from survey_app.models import AuditEvent
from survey_app.services import campaigns, demo, indicator_table, scores
from survey_app.services.report_settings import DEVIATION_NOTE_MAX
from tests.evaluate.golden import check_json
from tests.factories import login, make_user

BASE = f"/evaluate/{demo.SLUG}"


def _sheet_values(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data))["满意度指标"]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.demo_data
def test_golden_indicator_workbook_of_the_demo_campaign(app, client, session):
    login(client, make_user(session))
    response = client.get(BASE + "/export/indicator")
    assert response.status_code == 200
    assert "heshan-2021-indicator.xlsx" in response.headers["Content-Disposition"]
    check_json("indicator_demo.json", _sheet_values(response.data))
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export.indicator"))
    assert len(events.all()) == 1


@pytest.mark.demo_data
def test_rows_follow_the_form_and_the_total_adds_up(app, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    doc = scores.scores_document(campaign, session=session)
    rows = indicator_table.indicator_rows(campaign, doc, session=session)
    scored, *groups, total = [r for r in rows if r.previous_year is None]
    assert (scored.first_level, scored.second_level, scored.comparison) == (
        "满意度指标", "服务对象满意度指标", "≥")
    assert (scored.target, scored.actual, scored.points, scored.earned) == (
        campaign.indicator_target, doc.indicator.actual, campaign.indicator_points,
        doc.indicator.points_earned)
    assert [g.third_level for g in groups] == ["其中：棚改货币化安置户满意率",
                                               "其中：租赁补贴户满意率"]
    assert [g.actual for g in groups] == [g.items[doc.overall_item].rate for g in doc.groups]
    assert total.points == sum(r.points for r in rows[:-1] if r.points is not None)
    assert total.earned == scored.earned
    # heshan-2021 names heshan-2020: unscored rows 不低于上年 before 合计, the target being
    # last year's value and the note the change with its interval and P(change >= 0).
    yoy = rows[-4:-1]
    section = doc.year_over_year
    assert [r.third_level for r in yoy] == [
        "居民总体满意率不低于上年（2020年度）",
        "其中：棚改货币化安置户满意率不低于上年（2020年度）",
        "其中：租赁补贴户满意率不低于上年（2020年度）"]
    figures = [section.figure("overall_rate", group=g)
               for g in (None, "relocated", "rental_subsidy")]
    assert [(r.target, r.actual, r.points) for r in yoy] == [
        (f.previous, f.current, None) for f in figures]
    rate = figures[0]
    assert yoy[0].note == (
        f"较上年{rate.change * 100:+.1f}个百分点（95%置信区间{rate.change_ci[0] * 100:+.1f}～"
        f"{rate.change_ci[1] * 100:+.1f}个百分点），真实变化不低于0的可能性约为"
        f"{rate.probability_not_lower:.1%}，达到“不低于上年”。")
    shown = indicator_table.display(yoy[0])
    assert shown["target"] == f"{rate.previous * 100:.1f}%"
    assert shown["points"] == "不单独计分"


@pytest.mark.demo_data
def test_the_note_is_edited_on_the_dashboard_kept_audited_and_exported_safely(
        app, client, session):
    login(client, make_user(session))
    note = "=HYPERLINK(\"x\")；补偿标准偏低。\n建议按租金水平动态调整。<b>&"
    answer = client.post(BASE + "/indicator-notes",
                         data={"deviation_note": note, "first_level": "效益指标"},
                         follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "指标表已保存" in page and "建议按租金水平动态调整。&lt;b&gt;&amp;" in page
    values = _sheet_values(client.get(BASE + "/export/indicator").data)
    assert values[2][0] == "效益指标" and values[2][8] == "'" + note
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "report.indicator_notes")).one()
    assert event.details == {"old": {"deviation_note": "", "first_level": "满意度指标"},
                             "new": {"deviation_note": note, "first_level": "效益指标"}}
    assert event.actor_id is not None
    report = Document(io.BytesIO(client.get(BASE + "/report.docx").data))
    assert report.tables[-1].rows[1].cells[8].text == note  # line break kept, text escaped


@pytest.mark.demo_data
@pytest.mark.parametrize("data, message", [
    ({"deviation_note": "长" * (DEVIATION_NOTE_MAX + 1), "first_level": "满意度指标"},
     str(DEVIATION_NOTE_MAX)),
    ({"deviation_note": "x", "first_level": "产出指标"}, "不是有效的选择"),
])
def test_a_bad_note_is_refused_and_nothing_saved(app, client, session, data, message):
    login(client, make_user(session))
    page = client.post(BASE + "/indicator-notes", data=data,
                       follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "report.indicator_notes")).first() is None


def test_display_prints_targets_as_set_and_values_to_one_decimal():
    row = indicator_table.IndicatorRow("满意度指标", "服务对象满意度指标", "居民总体满意率", "≥",
                                       0.925, 0.93125, "rate", 10.0, 10.0, "")
    shown = indicator_table.display(row)
    assert (shown["target"], shown["actual"], shown["points"], shown["earned"]) == (
        "92.5%", "93.1%", "10", "10.00")
    unscored = indicator_table.display(
        indicator_table.IndicatorRow("满意度指标", "", "其中", "≥", 85.0, None, "score", None,
                                     None, ""))
    assert (unscored["target"], unscored["actual"], unscored["points"]) == (
        "85", "—", "不单独计分")
