"""The dashboard and the Word section state how many forms were back-checked and what was
found; without a back-check both stay as they were."""

from __future__ import annotations

import io

import pytest
from docx import Document

from survey_app.services import backchecks, report, scores
from tests.entry.conftest import UserClient
from tests.evaluate.backcheck_field import build_backcheck_field


@pytest.fixture
def bc(session):
    return build_backcheck_field(session)


def _calls(session, bc):
    """Worker A: three reached, two of them discrepant; worker A2: one reached, agreeing."""
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    by_worker: dict[int, list] = {}
    for row in backchecks.case_rows(draw, session=session):
        by_worker.setdefault(row.case.worker_id, []).append(row.case)
    a, a2 = by_worker[bc.worker_a.id], by_worker[bc.worker_a2.id]
    for case, visited in ((a[0], "2"), (a[1], "2"), (a[2], "1"), (a2[0], "1")):
        backchecks.record_call(case, campaign=bc.campaign, outcome="reached",
                               answers={"visited": visited}, session=session,
                               actor=bc.evaluator)


def _method_text(session, bc) -> list[str]:
    doc = scores.scores_document(bc.campaign, session=session)
    return report.report_context(bc.campaign, doc, session=session)["method_text"]


def test_without_a_back_check_the_report_and_dashboard_say_nothing_of_one(app, session, bc):
    assert not any("回访" in p for p in _method_text(session, bc))
    page = UserClient(app, bc.evaluator).get(f"/evaluate/{bc.campaign.slug}")
    assert "尚未抽取回访复核样本" in page.get_data(as_text=True)


def test_the_report_states_the_back_check_and_its_findings(app, session, bc):
    backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    paragraph = [p for p in _method_text(session, bc) if "回访复核" in p]
    assert paragraph == [
        "为核实纸质问卷是否确由工作人员入户取得，评价机构从每名工作人员已完成的纸质问卷中"
        "随机抽取10%（每人至少3份，随机种子42）进行电话回访复核，共抽取9份（纸质问卷共31份），"
        "重新询问“是否有工作人员上门”、“总体而言，您对本地棚户区改造货币化安置工作是否满意？”、"
        "“您家共同生活的家庭人口有几人？”。截至本报告生成时，尚无完成核对的回访。"]


def test_the_findings_in_report_docx_and_dashboard(app, session, bc):
    _calls(session, bc)
    method = _method_text(session, bc)
    # 2 of 4 discrepant: 50.0 %, Wilson 95 % (15.0 %, 85.0 %) (by hand: p = 1/2, n = 4,
    # (2np + z² ∓ z·sqrt(4npq + z²)) / (2(n + z²)) = 0.1500, 0.8500); worker A 2 of 3,
    # lower bound 20.8 % > 10 %: flagged.
    assert ("已联系住户并完成核对4份，其中2份的回答与纸质问卷不一致，不一致率为50.0%"
            "（95%置信区间15.0%～85.0%）。有1名工作人员的不一致率明显高于10%") in method[-2]
    assert method[-1].startswith("本节数据基于")  # the snapshot sentence stays last
    doc = scores.scores_document(bc.campaign, session=session)
    document = Document(io.BytesIO(report.build_report(bc.campaign, doc, session=session)))
    assert any("完成核对4份" in p.text for p in document.paragraphs)
    page = UserClient(app, bc.evaluator).get(f"/evaluate/{bc.campaign.slug}")
    html = page.get_data(as_text=True)
    assert "已从 31 份已完成纸质问卷中抽取 9 份进行回访复核，已完成核对 4 份。" in html
    assert "其中 2 份的回答与纸质问卷不一致，不一致率 50.0%（95%置信区间 15.0%–85.0%）" in html
    assert f"需核查问卷的工作人员：{bc.worker_a.display_name or bc.worker_a.username}。" in html
