"""The Word section 居民满意度调查情况 reads as a Chinese evaluation report: A4, East-Asian
fonts, numbered captions, the headline in a sentence, no English; it is rendered from a
template the evaluator can download, edit and upload back."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import Table
from docx.text.paragraph import Paragraph
from sqlmodel import select

from survey_app.models import AuditEvent, CampaignReport
from survey_app.services import campaigns, demo, report, report_settings, report_text, scores
from tests.evaluate.golden import check_text
from tests.factories import login, make_user

#: Three Latin words in a row: an English phrase (names like "AAPOR RR1" are two at most).
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,.;:'’()-]+[A-Za-z]{2,}){2,}")


def blocks(document):
    """Paragraphs and tables in body order."""
    for child in document.element.body:
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            yield Table(child, document)


def text_dump(document) -> str:
    """The document as lines: [style] text, tables as rows of cells, a figure as [图]."""
    lines = []
    for block in blocks(document):
        if isinstance(block, Table):
            lines += ["  | " + " | ".join(c.text for c in row.cells) for row in block.rows]
        elif block._p.xpath(".//w:drawing"):
            lines.append(f"[{block.style.name}] [图]")
        elif block.text.strip():
            lines.append(f"[{block.style.name}] {block.text}")
    return "\n".join(lines) + "\n"


def all_text(document) -> list[str]:
    out = [p.text for p in document.paragraphs]
    out += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return out


def _report(client, session):
    login(client, make_user(session))
    response = client.get(f"/evaluate/{demo.SLUG}/report.docx")
    assert response.status_code == 200
    return Document(io.BytesIO(response.data))


@pytest.mark.demo_data
def test_report_is_a4_with_east_asian_fonts_numbered_captions_and_no_english(
        app, client, session):
    document = _report(client, session)
    section = document.sections[0]
    assert abs(section.page_width - Cm(21.0)) < Cm(0.05)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.05)
    for name in ("Normal", "Heading 1", "Heading 2", "Caption", "表格文字"):
        fonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) in ("宋体", "仿宋", "黑体"), name
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("表")]
    figures = [c for c in captions if c.startswith("图")]
    assert [re.match(r"表(\d+)\u3000", c).group(1) for c in tables] == \
        [str(i) for i in range(1, len(tables) + 1)]
    # heshan-2021 names heshan-2020: the table 与上年比较 is the second.
    assert len(tables) == len(document.tables) == 5
    assert tables[1] == "表2\u3000主要指标与上年比较"
    assert [re.match(r"图(\d+)\u3000", c).group(1) for c in figures] == ["1"]
    # The caption numbers are Word SEQ fields, so Word renumbers them after edits.
    seq = document.element.body.xpath(".//w:instrText")
    assert [t.text.split()[1] for t in seq] == ["表", "表", "表", "图", "表", "表"]
    english = [m.group() for text in all_text(document) for m in ENGLISH.finditer(text)]
    assert english == []


@pytest.mark.demo_data
def test_headline_sentence_states_rate_interval_target_and_points(app, client, session):
    document = _report(client, session)
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    doc = scores.scores_document(campaign, session=session)
    ind, cell = doc.indicator, doc.pooled.items[doc.overall_item]
    headline = next(p.text for p in document.paragraphs if p.text.startswith("调查结果显示"))
    assert f"居民总体满意率为{ind.actual * 100:.1f}%" in headline
    assert f"95%置信区间为{cell.rate_ci[0] * 100:.1f}%～{cell.rate_ci[1] * 100:.1f}%" in headline
    assert "年度目标值为不低于90%" in headline
    assert f"分值{ind.points:g}分，得{ind.points_earned:.2f}分" in headline
    text = "\n".join(all_text(document))
    assert "调查时间为2021年11月1日至" in text and "见调查记录" not in text
    assert "points" not in text and "min(" not in text  # no English formula


@pytest.mark.demo_data
def test_golden_report_text_of_the_demo_campaign(app, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    doc = scores.scores_document(campaign, session=session)
    document = Document(io.BytesIO(report.build_report(campaign, doc, session=session)))
    check_text("report_demo.txt", text_dump(document))


@pytest.mark.demo_data
def test_template_download_edit_upload_round_trip(app, client, session):
    login(client, make_user(session))
    base = f"/evaluate/{demo.SLUG}"
    shipped = client.get(base + "/report-template.docx")
    assert shipped.status_code == 200 and shipped.data == report.shipped_template()
    edited = Document(io.BytesIO(shipped.data))
    edited.paragraphs[0].insert_paragraph_before("某某评价有限公司　第三方绩效评价报告")
    buf = io.BytesIO()
    edited.save(buf)
    answer = client.post(base + "/report-template",
                         data={"template": (io.BytesIO(buf.getvalue()), "house.docx")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "模板已上传" in answer.get_data(as_text=True)
    assert client.get(base + "/report-template.docx").data == buf.getvalue()
    rendered = Document(io.BytesIO(client.get(base + "/report.docx").data))
    assert rendered.paragraphs[0].text == "某某评价有限公司　第三方绩效评价报告"
    assert any(p.text.startswith("调查结果显示") for p in rendered.paragraphs)

    client.post(base + "/report-template", data={"action": "reset"})
    assert client.get(base + "/report-template.docx").data == report.shipped_template()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "report.template")
                          .order_by(AuditEvent.id)).all()
    assert [bool(e.details["new_sha256"]) for e in events] == [True, False]


def _docx_with(text: str) -> bytes:
    document = Document(io.BytesIO(report.shipped_template()))
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.mark.demo_data
@pytest.mark.parametrize("upload, message", [
    (_docx_with("{{ headlin }}"), "无法识别的占位符“headlin”"),
    (_docx_with("{%p for s in overview %}"), "占位符或语句不完整"),
    (b"PK\x03\x04 not really a zip", "文件不是Word文档"),
    (b"plain text", "文件不是Word文档"),
])
def test_a_broken_template_is_refused_with_the_reason_and_nothing_stored(
        app, client, session, upload, message):
    login(client, make_user(session))
    answer = client.post(f"/evaluate/{demo.SLUG}/report-template",
                         data={"template": (io.BytesIO(upload), "broken.docx")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert message in answer.get_data(as_text=True)
    assert session.exec(select(CampaignReport)).first() is None


def test_survey_period_from_the_campaign_dates():
    assert report_text.survey_period(date(2022, 3, 1), date(2022, 4, 15), None, None) == \
        "2022年3月1日至2022年4月15日"
    open_ended = report_text.survey_period(date(2021, 11, 1), None, date(2021, 11, 3),
                                           date(2021, 12, 13))
    assert open_ended.startswith("2021年11月1日至2021年12月13日（调查尚未结束")
    assert report_text.survey_period(None, None, None, None) == "调查尚未回收问卷"


@pytest.mark.parametrize("comment, quoted", [
    # Scrubbed (text_scrub) first, then any run of three digits masked.
    ("我的电话13812345678，补贴没到账", "我的电话[电话]，补贴没到账"),
    ("3号楼502室漏水", "[地址]漏水"),
    ("我叫王芳，3号楼漏水123天", "我叫[姓名]，3号楼漏水＊＊＊天"),
    ("补贴" * 40, "补贴" * 30 + "……"),
])
def test_quoted_comments_are_deidentified(comment, quoted):
    assert report_text.deidentified(comment) == quoted


def _fake_doc(actual, low, high, earned, chance, measure="rate", target=0.9):
    from types import SimpleNamespace

    from survey_app.services.scores_model import Indicator

    ind = Indicator(measure=measure, actual=actual, se=0.01, target=target, points=10.0,
                    points_earned=earned, probability_meets_target=chance, rule="",
                    convention="")
    cell = SimpleNamespace(rate=actual, rate_ci=(low, high), score=actual,
                           score_ci=(low, high), index=actual, index_ci=(low, high))
    return SimpleNamespace(indicator=ind, n_respondents=500, overall_item="overall",
                           pooled=SimpleNamespace(suppressed=False, items={"overall": cell}))


@pytest.mark.parametrize("doc, first, meaning", [
    (_fake_doc(0.95, 0.93, 0.97, 10.0, 0.9999),
     "居民总体满意率为95.0%，95%置信区间为93.0%～97.0%；年度目标值为不低于90%，实际完成值达到目标值，"
     "满意度指标分值10分，得10.00分。", "置信区间的下限也不低于目标值"),
    (_fake_doc(0.91, 0.88, 0.94, 10.0, 0.77),
     "实际完成值达到目标值",
     "但置信区间的下限低于目标值，达到目标的结论受抽样误差影响，表述时宜说明这一点。"
     "按抽样误差估计，真实值达到目标的可能性约为77.0%。"),
    (_fake_doc(0.88, 0.85, 0.91, 9.78, 0.1),
     "实际完成值未达到目标值", "实际完成值比目标值低2.0个百分点，按计分规则扣0.22分。"),
    (_fake_doc(83.5, 82.0, 85.0, 9.82, 0.2, measure="score", target=85.0),
     "居民总体满意度得分为83.50，95%置信区间为82.00～85.00；年度目标值为不低于85.00",
     "实际完成值比目标值低1.50分"),
])
def test_headline_says_what_the_number_means(doc, first, meaning):
    headline, explanation = report_text.headline(doc)
    assert first in headline
    assert meaning in explanation


@pytest.mark.demo_data
def test_without_last_year_the_table_is_left_out_and_captions_stay_consecutive(app, session):
    from survey_app.services import demo_previous

    campaign = campaigns.get_campaign(demo_previous.SLUG, session=session)
    doc = scores.scores_document(campaign, session=session)
    assert doc.year_over_year is None
    document = Document(io.BytesIO(report.build_report(campaign, doc, session=session)))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("表")]
    assert [re.match(r"表(\d+)\u3000", c).group(1) for c in tables] == ["1", "2", "3", "4"]
    assert len(document.tables) == 4
    assert "上年" not in "\n".join(all_text(document))


@pytest.mark.parametrize("placeholder", [
    "{{ cycler.__init__.__globals__.os.popen('touch %s').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ open('%s', 'w') }}",
    "{% set x = namespace.__init__.__globals__ %}{{ x }}%s",
])
def test_an_uploaded_template_runs_no_code_on_the_server(tmp_path, placeholder):
    """An evaluator's template is rendered in Jinja's sandbox (attack3 finding: a placeholder
    reached os.popen, i.e. any command as the server's account)."""
    marker = tmp_path / "ran"
    document = Document()
    document.add_paragraph(placeholder.replace("%s", str(marker)))
    buf = io.BytesIO()
    document.save(buf)
    template = buf.getvalue()
    with pytest.raises(report_settings.ReportSettingsError, match="不允许的语句"):
        report.render(template, {}, png=None, strict=True)
    with pytest.raises(report_settings.ReportSettingsError):
        report.render(template, {}, png=None)
    assert not marker.exists()


def test_a_template_that_unpacks_to_more_than_the_limit_is_refused():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/media/bomb.bin",
                         b"\0" * (report_settings.REPORT_TEMPLATE_MAX_UNPACKED + 1))
    assert len(buf.getvalue()) < report_settings.REPORT_TEMPLATE_MAX_BYTES
    with pytest.raises(report_settings.ReportSettingsError, match="解压后过大"):
        report_settings.check_docx(buf.getvalue())
    report_settings.check_docx(report.shipped_template())


@pytest.mark.demo_data
def test_a_stored_template_that_no_longer_renders_is_explained_not_a_server_error(
        app, client, session):
    """A template stored before the sandbox (or one it now refuses) makes the report page
    say why and where to replace it."""
    document = Document()
    document.add_paragraph("{{ cycler.__init__.__globals__ }}")
    buf = io.BytesIO()
    document.save(buf)
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    report_settings.save_template(campaign, buf.getvalue(), session=session, actor=None)
    session.flush()
    login(client, make_user(session))
    answer = client.get(f"/evaluate/{demo.SLUG}/report.docx")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("#indicator-table")
    assert "不允许的语句" in client.get(answer.headers["Location"]).get_data(as_text=True)
@pytest.mark.demo_data
def test_report_tables_fit_the_page_and_keep_their_header_on_every_page(app, client, session):
    """Pasted into an evaluation report, a long table repeats its header row on each page,
    its caption stays with it, and the columns have set widths: the name column and the
    indicator table's note column are wide (they were all equal, and the note ran to a
    few characters a line over three pages)."""
    document = _report(client, session)
    text_width = document.sections[0].page_width - document.sections[0].left_margin \
        - document.sections[0].right_margin
    for table in document.tables:
        header = table.rows[0]._tr
        assert header.trPr is not None and header.trPr.find(qn("w:tblHeader")) is not None
        assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        widths = [cell.width for cell in table.rows[0].cells]
        assert abs(sum(widths) - text_width) < Cm(0.05)
        assert max(widths) > 1.4 * min(widths)  # not all equal
    # The name column is the widest of the first four tables (表4: after 分组).
    for table, name_column in zip(document.tables[:4], (0, 0, 0, 1), strict=True):
        widths = [cell.width for cell in table.rows[0].cells]
        assert widths[name_column] == max(widths)
    indicator = document.tables[-1]
    widths = [cell.width for cell in indicator.rows[1].cells]
    assert widths[-1] == max(widths) and widths[-1] > 2.5 * min(widths)
    captions = [p for p in document.paragraphs
                if p.style.name == "Caption" and p.text.startswith("表")]
    assert captions and all(p.paragraph_format.keep_with_next for p in captions)


@pytest.mark.demo_data
def test_limitations_read_plainly_in_the_report_words(app, client, session):
    """The limitations paragraph says 回答率 and 作答 as Table 1 does (not 应答率, 未应答),
    names the weighting by what it does (no 迭代比例拟合), says the rate goes down rather
    than 变化-0.1, gives the non-response caveat once, and the closing sentence names the
    audit trail's check code, not its 链头."""
    document = _report(client, session)
    limits = next(p.text for p in document.paragraphs if p.text.startswith("本次调查的局限"))
    assert "各社区回答率在71.5%至73.7%之间" in limits
    assert "总体满意率下降0.1个百分点" in limits
    for jargon in ("应答", "迭代比例拟合", "变化-", "未应答偏差"):
        assert jargon not in limits, jargon
    assert limits.count("未作答住户的满意程度可能与作答住户不同") == 1
    closing = document.paragraphs[-1].text if document.paragraphs[-1].text else \
        next(p.text for p in reversed(document.paragraphs) if p.text)
    assert "审计记录校验码" in closing and "链头" not in closing
