"""The dashboard's validity table (issue 18 item 3): Chinese headings, the document's
figures, one-item dimensions named instead of given a number, and the thresholds explained."""

from __future__ import annotations

import re

import pytest

from survey_app.services import campaigns, demo, scores
from tests.factories import login, make_user


def _cells(page: str, table: int) -> list[list[str]]:
    body = re.findall(r'<table class="scores validity">(.*?)</table>', page, re.S)[table]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>",
                                                                   row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.mark.demo_data
def test_dashboard_shows_the_validity_table_in_chinese(app, client, session):
    login(client, make_user(session))
    page = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
    v = scores.scores_document(campaigns.get_campaign(demo.SLUG, session=session),
                               session=session).validity
    header, *rows = _cells(page, 0)
    assert header == ["维度", "题目数", "使用样本", "组合信度 CR", "平均方差抽取量 AVE",
                      "校正的项目-总分相关", "说明"]
    # Every demo dimension has one item: only the all-items model gets a row.
    assert [r[0] for r in rows] == ["全部评价题（单因子）"]
    a = v.all_items
    assert rows[0][3:5] == [f"{a.composite_reliability:.3f}", f"{a.average_variance_extracted:.3f}"]
    assert rows[0][5] == (f"{min(a.corrected_item_total):.3f}–"
                          f"{max(a.corrected_item_total):.3f}")
    assert "只有一题的维度（无法计算组合信度和平均方差抽取量）：政策知晓、" in page
    header, values = _cells(page, 1)
    assert header[0] == "总体满意度的解释度 R²"
    assert values[0] == f"{v.overall.r_squared:.3f}" and values[2] == str(v.overall.n_used)
    assert values[3] == "投诉处理"  # shown only to those who complained
    assert "组合信度 CR 不低于 0.7" in page and "平均方差抽取量 AVE 不低于 0.5" in page
