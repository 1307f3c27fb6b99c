"""Exports are de-identified and formula-safe; the report opens; every score is reproducible
from the CSV export with ``analysis`` alone."""

import csv
import io

import numpy as np
import pyreadstat
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

import analysis
from survey_app.models import Answer, AuditEvent, Household, Response
from survey_app.services import demo
from tests.factories import login, make_user

PAYLOADS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(1)", "\tTAB", "\rCR",
            '=HYPERLINK("http://x","y")']


def _plant_payloads(session):
    answers = session.exec(select(Answer).join(Response, Response.id == Answer.response_id)
                           .where(Answer.question_id == "comments", Response.excluded == False,  # noqa: E712
                                  Response.status == "complete")
                           .order_by(Answer.id).limit(len(PAYLOADS))).all()
    for answer, payload in zip(answers, PAYLOADS, strict=True):
        answer.text = payload
        session.add(answer)
    session.flush()


@pytest.mark.slow
@pytest.mark.demo_data
def test_exports_are_deidentified_formula_safe_and_audited(app, client, session, tmp_path):
    _plant_payloads(session)
    login(client, make_user(session))
    base = f"/evaluate/{demo.SLUG}/export/"
    csv_bytes = client.get(base + "csv").data
    assert csv_bytes.startswith("\ufeff".encode())
    text = csv_bytes.decode("utf-8-sig")
    comments = [row["comments"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    for payload in PAYLOADS:
        assert "'" + payload in comments
        assert payload not in comments

    xlsx = load_workbook(io.BytesIO(client.get(base + "xlsx").data))
    assert xlsx.sheetnames == ["responses", "codebook"]
    cells = [c for row in xlsx["responses"].iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)  # openpyxl reads no formula
    values = [c.value for c in cells if isinstance(c.value, str)]
    assert "'=1+1" in values and "=1+1" not in values
    codebook = {r[0].value: r for r in xlsx["codebook"].iter_rows(min_row=2)}
    assert "5=非常满意" in codebook["overall_satisfaction"][4].value
    assert codebook["overall_satisfaction"][3].value == "overall"

    sav_path = tmp_path / "x.sav"
    sav_path.write_bytes(client.get(base + "sav").data)
    frame, meta = pyreadstat.read_sav(str(sav_path), user_missing=True)
    assert meta.variable_value_labels["overall_satisfaction"][5.0] == "非常满意"
    assert meta.column_names_to_labels["pseudonym"].startswith("住户化名")
    summary = load_workbook(io.BytesIO(client.get(base + "summary").data))
    assert {"各题结果", "指标得分", "信度"} <= set(summary.sheetnames)

    # No roster identifier (household code, masked name/phone/ID/address) in any export.
    households = session.exec(select(Household)).all()
    everything = "\n".join([text, "\n".join(map(str, values)), frame.to_csv(),
                            "\n".join(str(c.value) for ws in summary.worksheets
                                      for row in ws.iter_rows() for c in row)])
    for h in households:
        for secret in (h.household_code, h.head_name_masked, h.phone_masked,
                       h.id_number_masked, h.address_masked):
            # (heshan-2020's roster has no names, phones or addresses: empty masks)
            assert not secret or secret not in everything
    assert any(h.pseudonym in text for h in households)

    events = session.exec(select(AuditEvent).where(AuditEvent.action.like("export.%"))).all()
    assert sorted(e.action for e in events) == ["export.csv", "export.sav", "export.summary",
                                                 "export.xlsx"]
    assert all(e.actor_id is not None for e in events)


@pytest.mark.demo_data
def test_report_docx_holds_tables_and_indicator(app, client, session):
    evaluator = make_user(session)
    login(client, evaluator)
    api = client.get(f"/evaluate/{demo.SLUG}")
    assert api.status_code == 200 and "满意率" in api.get_data(as_text=True)
    response = client.get(f"/evaluate/{demo.SLUG}/report.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "居民满意度调查情况" in text and "满意度指标分值" in text and "数据快照" in text
    assert len(document.tables) == 5  # sample, against last year, items, breakdowns, indicator
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert "总体满意度" in cells and "得分" in cells


def _stratified(values_by_group, pops):
    est = analysis.stratified_mean(values_by_group, pops)
    return est


@pytest.mark.demo_data
def test_every_dashboard_score_is_reproducible_from_the_csv(app, client, session):
    login(client, make_user(session))
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/evaluate/{demo.SLUG}/export/csv").data.decode("utf-8-sig"), newline="")))
    from survey_app.services import api_tokens
    token = api_tokens.create_api_token(make_user(session), session=session)
    doc = client.get(f"/api/v1/campaigns/{demo.SLUG}/scores",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert len(rows) == doc["n_respondents"]
    items = [i["id"] for i in doc["items"]]

    def check_cell(cell, subset, pops):
        assert cell["respondents"] == len(subset)
        for qid in items:
            expected = cell["items"][qid]
            # Per-option counts (issue 18) from the CSV's codes; blank = missing.
            codes = [r[qid] for r in subset]
            assert expected["counts"] == {
                "n5": codes.count("5"), "n4": codes.count("4"), "n3": codes.count("3"),
                "n2": codes.count("2"), "n1": codes.count("1"), "n9": codes.count("9"),
                "missing": codes.count("")}
            assert expected["weight_groups"] == sorted(
                {r["household_group"] for r in subset if r[qid] not in ("", "9")})
            by_group_rate, by_group_index = {}, {}
            for r in subset:
                code = r[qid]
                if code in ("", "9"):
                    continue
                by_group_rate.setdefault(r["household_group"], []).append(float(code) >= 4)
                by_group_index.setdefault(r["household_group"], []).append(
                    (float(code) - 1) * 25)
            p = {g: max(pops.get(g, 0), sum(1 for r in subset if r["household_group"] == g))
                 for g in by_group_rate}
            rate = analysis.stratified_mean(by_group_rate, p)
            index = analysis.stratified_mean(by_group_index, p)
            n_star = analysis.fpc_effective_n(rate)
            wilson = analysis.wilson_interval(rate.estimate * n_star, n_star)
            ci = analysis.interval_from_se(index.estimate, index.se)
            assert expected["n_valid"] == rate.n
            assert expected["rate"] == round(rate.estimate, 4)
            assert expected["rate_ci"] == [round(wilson.low, 4), round(wilson.high, 4)]
            assert expected["index"] == round(index.estimate, 2)
            assert expected["index_ci"] == [round(ci.low, 2), round(ci.high, 2)]
            assert expected["score"] == round(20 + 0.8 * index.estimate, 2)

    pops = {s["group"]: s["population"] for s in doc["strata"]}
    check_cell(doc["pooled"], rows, pops)
    for g in doc["groups"]:
        check_cell(g, [r for r in rows if r["household_group"] == g["code"]],
                   {g["code"]: pops[g["code"]]})
    for key, column in (("projects", "project_code"), ("communities", "community_code")):
        for cell in doc[key]:
            check_cell(cell, [r for r in rows if r[column] == cell["code"]], cell["population"])

    # Composite index, reliability and the indicator from the same CSV.
    y = np.array([[float(r[q]) if r[q] else np.nan for r in rows] for q in items])
    dims = {d["id"]: [items.index(i) for i in d["items"]] for d in doc["dimensions"]}
    stats = analysis.campaign_statistics(
        y, [r["household_group"] for r in rows], pops, dims, items.index(doc["overall_item"]),
        item_names=items, n_resamples=200, reliability=False)
    comp = doc["pooled"]["composite_index"]
    assert comp["estimate"] == round(stats.composite.overall, 2)
    assert comp["ci"] == [round(stats.composite_interval.low, 2),
                          round(stats.composite_interval.high, 2)]
    scale = np.where(y == 9, np.nan, y)[[i for i, q in enumerate(items)
                                         if q != doc["overall_item"]]].T
    alpha = analysis.cronbach_alpha(scale, missing="pairwise")
    assert doc["reliability"]["pairwise"]["alpha"] == round(alpha.alpha, 4)
    overall = stats.items[items.index(doc["overall_item"])].rate
    ind = analysis.indicator_score(overall.estimate, 0.90, 10.0, se=overall.se)
    assert doc["indicator"]["points_earned"] == round(ind.points_earned, 2)
    assert doc["indicator"]["probability_meets_target"] == round(
        ind.probability_meets_target, 4)


@pytest.mark.demo_data
@pytest.mark.parametrize("query, in_report", [
    # The pooled cell is suppressed: the report's results say so in a paragraph.
    ("?mode=paper&date_from=2021-11-03&date_to=2021-11-03", "有效问卷少于5份，只报告人数"),
    # Some projects are suppressed: their rows in the breakdown table.
    ("?community=HS-THL&mode=paper", "不单独报告"),
])
def test_suppressed_cells_render_as_counts_only_everywhere(app, client, session, query,
                                                         in_report):
    login(client, make_user(session))
    base = f"/evaluate/{demo.SLUG}"
    page = client.get(base + query)
    assert page.status_code == 200 and "仅显示人数" in page.get_data(as_text=True)
    report = Document(io.BytesIO(client.get(base + "/report.docx" + query).data))
    text = "\n".join([p.text for p in report.paragraphs]
                     + [c.text for t in report.tables for row in t.rows for c in row.cells])
    assert in_report in text
    summary = load_workbook(io.BytesIO(client.get(base + "/export/summary" + query).data))
    values = {c.value for row in summary["各题结果"].iter_rows() for c in row}
    assert "少于5人，仅显示人数" in values


@pytest.mark.demo_data
def test_report_download_anchors_its_snapshot_in_the_audit_chain(app, client, session):
    from survey_app.models import AuditSeal
    from survey_app.services import audit_chain, campaigns, scores

    login(client, make_user(session))
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    snapshot = scores.scores_document(campaign, session=session).snapshot
    response = client.get(f"/evaluate/{demo.SLUG}/report.docx")
    assert response.status_code == 200
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scores.snapshot")).one()
    assert event.details == {"snapshot": snapshot, "for": "export.report"}
    assert event.campaign_id == campaign.id and event.actor_label.startswith("user:")
    seal = session.exec(select(AuditSeal).where(AuditSeal.event_id == event.id)).one()
    check = audit_chain.verify_chain(session=session)
    assert check.intact and check.unsealed == 0 and check.head == seal.chain_hash
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert f"{snapshot}，审计记录校验码{seal.chain_hash[:16]}；" in text


@pytest.mark.demo_data
@pytest.mark.parametrize("fmt", ["csv", "summary"])
def test_an_export_anchors_the_snapshot_of_what_it_holds(app, client, session, fmt):
    from survey_app.models import AuditSeal
    from survey_app.services import campaigns, scores
    from survey_app.services.score_filters import ScoreFilters

    login(client, make_user(session))
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    filters = ScoreFilters(group="relocated")
    snapshot = scores.scores_document(campaign, filters, session=session).snapshot
    response = client.get(f"/evaluate/{demo.SLUG}/export/{fmt}?group=relocated")
    assert response.status_code == 200 and response.data
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scores.snapshot")).one()
    assert event.details == {"snapshot": snapshot, "for": "export." + fmt}
    assert session.exec(select(AuditSeal).where(AuditSeal.event_id == event.id)).one()
