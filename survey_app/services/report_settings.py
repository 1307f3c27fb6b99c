"""What the evaluator writes for a campaign's report and indicator table, kept and audited.

Three things live in one :class:`~survey_app.models.CampaignReport` row per campaign: the
indicator table's 偏差原因分析及改进措施, its 一级指标, and the firm's own Word template of
the report section. Each save is an audit event carrying the old and new text (the
template by its sha256 and size, never its bytes). The functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from sqlmodel import Session, select

from survey_app.models import Campaign, CampaignReport, User, utcnow
from survey_app.services import audit

#: The 预算绩效 frameworks file 服务对象满意度指标 under one of these 一级指标 (the current
#: one, 财预〔2020〕10号, under 满意度指标; older forms under 效益指标).
FIRST_LEVELS = ("满意度指标", "效益指标")
DEVIATION_NOTE_MAX = 2000
REPORT_TEMPLATE_MAX_BYTES = 2 * 1024 * 1024
#: What a template's parts may hold unpacked (the shipped one: ~0.1 MB).
REPORT_TEMPLATE_MAX_UNPACKED = 32 * 1024 * 1024


class ReportSettingsError(ValueError):
    """A refused edit or upload; the message says what is wrong, in the reader's words."""


@dataclass(frozen=True)
class IndicatorNotes:
    """The evaluator's text of the indicator table (defaults before the first edit)."""

    deviation_note: str = ""
    first_level: str = FIRST_LEVELS[0]


def indicator_notes(campaign: Campaign, *, session: Session) -> IndicatorNotes:
    """The campaign's 偏差原因分析 and 一级指标, without reading its template's bytes."""
    row = session.exec(select(CampaignReport.deviation_note, CampaignReport.first_level)
                       .where(CampaignReport.campaign_id == campaign.id)).first()
    return IndicatorNotes() if row is None else IndicatorNotes(*row)


def _row(campaign: Campaign, session: Session) -> CampaignReport:
    row = session.get(CampaignReport, campaign.id)
    return row or CampaignReport(campaign_id=campaign.id)


def save_indicator_notes(campaign: Campaign, *, session: Session, actor: User | None,
                         deviation_note: str, first_level: str) -> None:
    """Store the indicator table's text; an audit event keeps the old and new values."""
    note = (deviation_note or "").strip().replace("\r\n", "\n")
    if len(note) > DEVIATION_NOTE_MAX:
        raise ReportSettingsError(f"偏差原因分析及改进措施最多{DEVIATION_NOTE_MAX}字，"
                                  f"现有{len(note)}字。")
    if first_level not in FIRST_LEVELS:
        raise ReportSettingsError("一级指标只能是" + "或".join(FIRST_LEVELS) + "。")
    row = _row(campaign, session)
    old = {"deviation_note": row.deviation_note or "", "first_level": row.first_level}
    row.deviation_note, row.first_level, row.updated_at = note, first_level, utcnow()
    session.add(row)
    session.flush()
    audit.record("report.indicator_notes", "campaign", campaign.id, session=session,
                 actor=actor, campaign_id=campaign.id,
                 details={"old": old, "new": {"deviation_note": note,
                                              "first_level": first_level}})


def custom_template(campaign: Campaign, *, session: Session) -> bytes | None:
    """The firm's uploaded template of the report section, or None for the shipped one."""
    return session.exec(select(CampaignReport.template)
                        .where(CampaignReport.campaign_id == campaign.id)).first()


def check_docx(data: bytes) -> None:
    """Refuse what Word would not open as a document (size, zip, ``word/document.xml``)."""
    if not data:
        raise ReportSettingsError("上传的文件是空的。")
    if len(data) > REPORT_TEMPLATE_MAX_BYTES:
        raise ReportSettingsError(f"模板文件过大（{len(data) // 1024} KB），"
                                  f"最大{REPORT_TEMPLATE_MAX_BYTES // 1024 // 1024} MB。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ReportSettingsError("文件不是Word文档（.docx）：无法按压缩包读取。"
                                  "旧版.doc格式请在Word或WPS中另存为.docx。") from None
    if "word/document.xml" not in names:
        raise ReportSettingsError("文件不是Word文档（.docx）：缺少正文部分word/document.xml。")
    if unpacked > REPORT_TEMPLATE_MAX_UNPACKED:
        # A zip bomb: every part is read into memory when the template is rendered.
        raise ReportSettingsError(f"模板文件解压后过大（超过"
                                  f"{REPORT_TEMPLATE_MAX_UNPACKED // 1024 // 1024} MB）。")


def save_template(campaign: Campaign, data: bytes | None, *, session: Session,
                  actor: User | None) -> None:
    """Store the firm's template (already checked to render), or None to go back to the
    shipped one; audited by sha256 and size."""
    row = _row(campaign, session)
    old = row.template_sha256
    row.template = data
    row.template_sha256 = hashlib.sha256(data).hexdigest() if data else None
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record("report.template", "campaign", campaign.id, session=session, actor=actor,
                 campaign_id=campaign.id,
                 details={"old_sha256": old, "new_sha256": row.template_sha256,
                          "bytes": len(data) if data else 0})
