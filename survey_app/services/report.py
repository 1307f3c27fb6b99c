"""The report section 居民满意度调查情况 as a Word document, rendered from a .docx template.

The section is a Word file with docxtpl (Jinja2) placeholders: the shipped one
(``survey_app/data/report_template.docx``, made by ``scripts/make_report_template.py``: A4,
East-Asian fonts, numbered 表/图 captions) or the evaluation firm's own, uploaded on the
dashboard after editing the shipped one in Word or WPS (:mod:`report_settings`). The text
comes from :mod:`report_text`, the numbers from the scores and progress documents only.

The figure is the dashboard's own SVG chart (:func:`charts.rate_bar_chart`) rasterised
with CairoSVG, so web and Word show one drawing; without a CJK font on the machine the
figure is left out and the section says so.
"""

from __future__ import annotations

import io
import re
from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from survey_app.models import Campaign, Response, ResponseStatus, as_utc
from survey_app.services import charts, report_text
from survey_app.services.backcheck_report import backcheck_paragraphs
from survey_app.services.indicator_table import display, indicator_rows
from survey_app.services.progress import progress_document
from survey_app.services.report_settings import (
    ReportSettingsError,
    check_docx,
    custom_template,
    indicator_notes,
)
from survey_app.services.score_filters import BEIJING
from survey_app.services.scores_model import ScoresDocument
from survey_app.services.year_over_year_rows import report_rows

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CJK_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
#: Width of the figure on the page (the A4 text block is 14.66 cm wide).
FIGURE_WIDTH_MM = 145


def shipped_template() -> bytes:
    """The default Word template of the section."""
    return resources.files("survey_app").joinpath("data/report_template.docx").read_bytes()


def cjk_font_path() -> str | None:
    for path in CJK_FONT_PATHS:
        if Path(path).exists():
            return path
    found = sorted(Path("/usr/share/fonts").rglob("NotoSansCJK*Regular*"))
    return str(found[0]) if found else None


def chart_png(doc: ScoresDocument, target: float | None) -> bytes | None:
    """The dashboard's item chart as a PNG (twice its SVG size, for print); None without
    a CJK font, which would turn every label into empty boxes."""
    if cjk_font_path() is None or doc.pooled.suppressed:
        return None
    import cairosvg  # only when a report is built

    svg = charts.rate_bar_chart(charts.item_rate_rows(doc, doc.pooled),
                                title="各项评价内容满意率", target=target)
    return cairosvg.svg2png(bytestring=str(svg).encode("utf-8"), scale=2.5)


def survey_days(campaign: Campaign, *, session: Session) -> tuple[date | None, date | None]:
    """Beijing dates of the first and last counted submission."""
    first, last = session.exec(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
            Response.campaign_id == campaign.id, Response.status == ResponseStatus.COMPLETE,
            Response.excluded == False)).one()  # noqa: E712

    def beijing_day(value):
        return None if value is None else as_utc(value).astimezone(BEIJING).date()

    return beijing_day(first), beijing_day(last)


def report_context(campaign: Campaign, doc: ScoresDocument, *, session: Session,
                   chain_head: str | None = None) -> dict:
    """Every placeholder of the template: sentences (lists of paragraphs) and table rows."""
    progress = progress_document(campaign, session=session)
    period = report_text.survey_period(campaign.opens_on, campaign.closes_on,
                                       *survey_days(campaign, session=session))
    notes = indicator_notes(campaign, session=session)
    included = doc.filters.include_unverified
    t_sample, sample_note = report_text.sample_rows(progress, unverified_included=included)
    has_cells = not doc.pooled.suppressed
    t_breakdown, breakdown_note = (report_text.breakdown_rows(doc) if has_cells
                                   else ([], ""))
    problems_intro, problems = report_text.problems(doc)
    return {
        "campaign": {"title": campaign.title, "district": campaign.district,
                     "year": campaign.year},
        "period": period,
        "overview": report_text.overview(campaign, progress, period,
                                         unverified_included=included),
        "t_sample": t_sample, "sample_note": sample_note,
        # With a predecessor, its paragraph 与上年比较 follows the headline.
        "headline": report_text.headline(doc) + (
            [doc.year_over_year.summary_zh] if doc.year_over_year and has_cells else []),
        # The table 与上年比较: empty (and left out) without a predecessor.
        "t_year_over_year": (report_rows(doc.year_over_year, doc.dimension_labels())
                             if doc.year_over_year and has_cells else []),
        "year_over_year_note": report_text.year_over_year_note(doc),
        "t_items": report_text.item_rows(doc) if has_cells else [],
        "items_note": "注：满意率、满意度得分的合计值按各类住户名册户数加权。",
        "dimension_text": report_text.dimension_text(doc) if has_cells else [],
        "t_breakdown": t_breakdown, "breakdown_note": breakdown_note,
        "analysis_text": report_text.analysis_text(doc),
        "problems_intro": problems_intro, "problems": problems,
        "indicator_text": report_text.indicator_text(campaign, doc, notes.deviation_note),
        "t_indicator": [_with_line_breaks(display(r))
                        for r in indicator_rows(campaign, doc, session=session)],
        "method_text": _with_backchecks(report_text.method_text(doc, progress, chain_head),
                                        backcheck_paragraphs(campaign, session=session)),
        "n_respondents": doc.n_respondents, "snapshot": doc.snapshot,
    }


def _with_backchecks(method: list[str], backcheck: list[str]) -> list[str]:
    """The back-check paragraph, if any, before the closing data-snapshot sentence."""
    return method[:-1] + backcheck + method[-1:]


def _with_line_breaks(row: dict) -> dict:
    """The evaluator's note keeps its line breaks in Word (docxtpl's Listing escapes it)."""
    from docxtpl import Listing

    return {**row, "note": Listing(row["note"])}


def render(template: bytes, context: dict, *, png: bytes | None, strict: bool = False) -> bytes:
    """``template`` rendered with ``context``; ``strict`` refuses unknown placeholders.

    Raises :class:`ReportSettingsError` (in words an evaluator can act on) when the
    template's placeholders are broken.
    """
    import zipfile

    import jinja2
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from lxml.etree import XMLSyntaxError

    try:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.init_docx()
    except (zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise ReportSettingsError(f"无法读取模板文件（{type(exc).__name__}）。请确认是用Word或"
                                  "WPS保存的.docx文件。") from None
    chart = InlineImage(tpl, io.BytesIO(png), width=Mm(FIGURE_WIDTH_MM)) if png else ""
    # The template is uploaded by an evaluator: a sandbox, or a placeholder such as
    # {{ cycler.__init__.__globals__.os.popen(...) }} runs commands on the server (attack3).
    env = ImmutableSandboxedEnvironment(
        autoescape=True, undefined=jinja2.StrictUndefined if strict else jinja2.Undefined)
    try:
        tpl.render({**context, "chart": chart}, jinja_env=env, autoescape=True)
    except SecurityError:
        raise ReportSettingsError("模板中有不允许的语句（只能使用报告的占位符和简单的"
                                  "{% for %}/{% if %}语句）。") from None
    except jinja2.UndefinedError as exc:
        # jinja names the unknown placeholder last and quoted ("'dict object' has no
        # attribute 'foo'"): the message shows that name only, in Chinese.
        names = re.findall(r"'([^']+)'", exc.message or "")
        raise ReportSettingsError(f"模板中有无法识别的占位符“{names[-1] if names else '?'}”。"
                                  "请对照默认模板检查{{ }}中的名称。") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ReportSettingsError(f"模板中的占位符或语句不完整（模板内部第{exc.lineno}行附近）。"
                                  "请检查{{ }}是否成对、{% %}语句是否有对应的结束语句。") from None
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def build_report(campaign: Campaign, doc: ScoresDocument, *, session: Session,
                 chain_head: str | None = None, template: bytes | None = None) -> bytes:
    """The .docx bytes of the section 居民满意度调查情况 for the scores document ``doc``.

    ``template``: a .docx to render instead of the campaign's (its uploaded one, else the
    shipped one). ``chain_head``: the audit chain's head after the document's snapshot was
    anchored in it (:func:`survey_app.services.audit_chain.anchor_snapshot`); the report
    prints its start, so a later rewrite of the trail up to the report no longer matches.
    """
    source = template or custom_template(campaign, session=session) or shipped_template()
    target = campaign.indicator_target if campaign.indicator_measure == "rate" else None
    context = report_context(campaign, doc, session=session, chain_head=chain_head)
    return render(source, context, png=chart_png(doc, target), strict=template is not None)


def check_template(campaign: Campaign, data: bytes, *, session: Session) -> None:
    """Refuse an uploaded template that is no .docx or does not render for the campaign's
    current scores (an unknown placeholder or a broken statement), with the reason."""
    from survey_app.services import score_cache

    check_docx(data)
    doc = score_cache.cached_scores_document(campaign, None, session=session)
    render(data, report_context(campaign, doc, session=session), png=None, strict=True)
