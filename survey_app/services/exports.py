"""De-identified exports of the counted responses: CSV, XLSX with codebook, SPSS .sav, and
the summary workbook of every dashboard score.

De-identified by construction: the only household column is the campaign-specific
pseudonym; names, phones, ID numbers, addresses and household codes are never selected,
and free-text answers go through ``text_scrub.scrub`` with the response's hand redaction.
Text that a spreadsheet could read as a formula is prefixed with an apostrophe
(:mod:`survey_app.services.formula_safety`). CSV and XLSX stream in batches of
:data:`BATCH` responses (constant memory); the .sav file is built in memory by pyreadstat
(it needs a data frame).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from sqlalchemy import func
from sqlmodel import Session, select

from questionnaires import Questionnaire
from survey_app.labels import label
from survey_app.models import (
    Answer,
    Campaign,
    Community,
    Household,
    Project,
    Response,
    ResponseMode,
    as_utc,
)
from survey_app.services import comment_privacy, indicator_table, scores, summary_workbook
from survey_app.services.counted_data import campaign_questionnaires, counted_query
from survey_app.services.formula_safety import neutralise, neutralise_row
from survey_app.services.score_filters import BEIJING, GROUP_LABELS, ScoreFilters
from survey_app.services.text_scrub import NO_REDACTION, scrub

BATCH = 500
# A background job's ``progress(done, total)`` (services.job_runner.Progress).
ProgressReport = Callable[[int, int], None]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "summary": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "indicator": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "backchecks": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "summary": "xlsx", "sav": "sav",
              "indicator": "xlsx", "backchecks": "xlsx"}
FIXED_COLUMNS = (
    ("response_id", "问卷编号（系统内部编号）"),
    ("payload_hash", "答案摘要 sha256（用于数据快照核对）"),
    ("pseudonym", "住户化名（本次调查专用，非户编号）"),
    ("household_group", "住户类别（分层）"),
    ("stratum_population", "该类别名册户数 N_h"),
    ("project_code", "项目编码"),
    ("community_code", "社区编码"),
    ("mode", "调查方式"),
    ("verified", "已核验住户（1=名册住户，0=未核验的公开链接答卷）"),
    ("submitted_date", "提交日期（北京时间）"),
    ("duration_seconds", "答题用时（秒）"),
)


def fixed_value_labels() -> dict[str, dict[str, str]]:
    """Value labels of the fixed columns that hold codes (household group, mode)."""
    return {"household_group": dict(GROUP_LABELS),
            "mode": {mode.value: label(mode.value) for mode in ResponseMode}}


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str  # rating | single | multiple | integer | text
    dimension: str | None
    value_labels: dict[str, str]
    groups: tuple[str, ...]


def codebook(questionnaires: dict[str, Questionnaire]) -> list[Variable]:
    """Every question of the campaign's questionnaires, first questionnaire's order first."""
    seen: dict[str, Variable] = {}
    for group, q in questionnaires.items():
        for question in q.questions():
            if question.id in seen:
                v = seen[question.id]
                seen[question.id] = Variable(v.name, v.label, v.kind, v.dimension,
                                             v.value_labels, (*v.groups, group))
                continue
            labels: dict[str, str] = {}
            dimension = None
            if question.type == "rating":
                labels = {code: text.zh_CN for code, text in q.scale.codes.items()}
                labels[q.scale.na_code] = q.scale.na_label.zh_CN
                dimension = question.dimension
            elif question.type in ("single", "multiple"):
                labels = {o.code: o.label.zh_CN for o in question.options}
            seen[question.id] = Variable(question.id, question.text.zh_CN, question.type,
                                         dimension, labels, (group,))
    return list(seen.values())


def _header(variables: list[Variable]) -> list[str]:
    return [name for name, _ in FIXED_COLUMNS] + [v.name for v in variables]


def response_rows(campaign: Campaign, *, session: Session, filters: ScoreFilters | None = None,
                  progress: ProgressReport | None = None,
                  ) -> tuple[list[Variable], Iterator[list]]:
    """(codebook, rows) of the counted responses; rows are fetched in batches, and each
    row is reported to ``progress`` (of the counted total) once yielded."""
    questionnaires = campaign_questionnaires(campaign, session=session)
    variables = codebook(questionnaires)
    kinds = {v.name: v.kind for v in variables}
    coded = ("rating", "single")
    pops = scores.populations(campaign, session=session)
    redactions = comment_privacy.campaign_redactions(campaign, session=session)
    # Keyset pagination over the filtered query itself (id > last ORDER BY id LIMIT n):
    # each batch is an index range scan, so the export is linear in the number of rows.
    # (Filtering by ``id IN (<counted subquery>)`` re-ran the whole subquery per batch.)
    # Plain columns, not ORM objects: nothing to build, nothing to expunge.
    base = counted_query(campaign, filters or ScoreFilters()).with_only_columns(
        Response.id, Response.payload_hash, Household.pseudonym, Response.household_group,
        Project.code, Community.code, Response.mode, Response.started_at,
        Response.submitted_at)
    answer_columns = select(Answer.response_id, Answer.question_id, Answer.code,
                            Answer.number, Answer.text)
    # Core execution on the session's connection (same transaction): ORM row processing
    # of 1.5 M answer rows cost more than the export's own work.
    connection = session.connection()
    total = 0
    if progress is not None:
        total = connection.execute(select(func.count()).select_from(
            base.order_by(None).subquery())).scalar_one()
        progress(0, total)

    def rows() -> Iterator[list]:
        last = done = 0
        while True:
            batch = connection.execute(base.where(Response.id > last).limit(BATCH)).all()
            if not batch:
                return
            last = batch[-1][0]
            answers: dict[int, dict[str, object]] = {record[0]: {} for record in batch}
            # The batch's id range (one statement text, two parameters) rather than an IN
            # list of 500 ids; answers of responses in the range but not counted are skipped.
            # The driver's own tuples: these columns need no result processing, and
            # SQLAlchemy's per-row fetch cost as much as the rest of the export.
            result = connection.execute(answer_columns.where(
                Answer.response_id.between(batch[0][0], last)))
            fetched = result.cursor.fetchall()
            result.close()
            for rid, qid, code, number, text in fetched:
                per = answers.get(rid)
                if per is None:
                    continue
                kind = kinds.get(qid)
                per[qid] = (int(code) if code and kind in coded else number if kind == "integer"
                            else scrub(text, redactions.get(rid, NO_REDACTION)) if kind == "text"
                            else code)
            for record in batch:
                yield _row(record, pops, answers[record[0]], variables)
                done += 1
                if progress is not None:
                    progress(done, total)

    return variables, rows()


def _row(record, pops, answers, variables) -> list:
    (rid, digest, pseudonym, group, project_code, community_code, mode, started_at,
     submitted_at) = record
    duration = None
    if started_at and submitted_at:
        duration = int((as_utc(submitted_at) - as_utc(started_at)).total_seconds())
    submitted = (as_utc(submitted_at).astimezone(BEIJING).date().isoformat()
                 if submitted_at else None)
    row = [rid, digest, pseudonym or f"OPEN-{rid}", group, pops.get(group),
           project_code, community_code, mode,
           0 if pseudonym is None and mode == ResponseMode.WEB_OPEN else 1, submitted,
           duration]
    return row + [answers.get(v.name) for v in variables]




# ---------------------------------------------------------------- CSV and XLSX

def csv_chunks(campaign: Campaign, *, session: Session, filters: ScoreFilters | None = None,
               progress: ProgressReport | None = None) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (so Excel and WPS read the Chinese), streamed in batches."""
    variables, rows = response_rows(campaign, session=session, filters=filters,
                                    progress=progress)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(_header(variables))
    yield "\ufeff".encode() + _drain(buf)
    for i, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else v
                         for v in row])
        if i % BATCH == 0:
            yield _drain(buf)
    yield _drain(buf)


def _drain(buf: io.StringIO) -> bytes:
    data = buf.getvalue().encode()
    buf.seek(0)
    buf.truncate()
    return data


def _file_chunks(path: str, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk
    finally:
        os.unlink(path)


def _temp_path(suffix: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    return path


def codebook_rows(variables: list[Variable]) -> list[list]:
    rows = [["变量", "题目", "题型", "维度", "编码及标签", "适用住户类别"]]
    fixed_codes = fixed_value_labels()
    for name, title in FIXED_COLUMNS:
        codes = "; ".join(f"{c}={lab}" for c, lab in fixed_codes.get(name, {}).items())
        rows.append([name, title, "meta", "", codes, ""])
    for v in variables:
        codes = "; ".join(f"{c}={lab}" for c, lab in v.value_labels.items())
        rows.append([v.name, v.label, v.kind, v.dimension or "", codes,
                     ", ".join(GROUP_LABELS.get(g, g) for g in v.groups)])
    return rows


def xlsx_chunks(campaign: Campaign, *, session: Session, filters: ScoreFilters | None = None,
               progress: ProgressReport | None = None) -> Iterator[bytes]:
    """Workbook with the responses (write-only, streamed to a temp file) and a codebook."""
    from openpyxl import Workbook

    variables, rows = response_rows(campaign, session=session, filters=filters,
                                    progress=progress)
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("responses")
    sheet.append(_header(variables))
    for row in rows:
        sheet.append(neutralise_row(row))
    book = wb.create_sheet("codebook")
    for row in codebook_rows(variables):
        book.append(neutralise_row(row))
    path = _temp_path(".xlsx")
    wb.save(path)
    yield from _file_chunks(path)


def sav_chunks(campaign: Campaign, *, session: Session, filters: ScoreFilters | None = None,
               progress: ProgressReport | None = None) -> Iterator[bytes]:
    """SPSS .sav with variable labels, value labels and 9 (不清楚) as user-missing."""
    import pandas as pd
    import pyreadstat

    variables, rows = response_rows(campaign, session=session, filters=filters,
                                    progress=progress)
    header = _header(variables)
    records = [list(r) for r in rows]
    frame = pd.DataFrame(records, columns=header)
    kinds = {v.name: v.kind for v in variables}
    for col in header:
        if kinds.get(col) in ("rating", "single", "integer") or col in (
                "response_id", "stratum_population", "duration_seconds", "verified"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        else:
            frame[col] = frame[col].map(lambda v: "" if v is None else str(v)).astype(object)
    labels = dict(FIXED_COLUMNS) | {v.name: v.label for v in variables}
    value_labels = {v.name: {float(c): lab for c, lab in v.value_labels.items()}
                    for v in variables if v.kind in ("rating", "single")}
    value_labels |= fixed_value_labels()
    missing = {v.name: [9.0] for v in variables if v.kind == "rating"}
    path = _temp_path(".sav")
    pyreadstat.write_sav(frame, path, column_labels=[labels.get(c, c) for c in header],
                         variable_value_labels=value_labels, missing_ranges=missing,
                         file_label=campaign.slug)
    yield from _file_chunks(path)


# ---------------------------------------------------------------- summary workbook

def summary_chunks(campaign: Campaign, *, session: Session, filters: ScoreFilters | None = None,
                   progress: ProgressReport | None = None) -> Iterator[bytes]:
    from openpyxl import Workbook

    if progress is not None:
        progress(0, 1)  # one step: the scores document
    doc = scores.scores_document(campaign, filters, session=session)
    wb = Workbook(write_only=True)
    for name, rows in summary_workbook.summary_rows(doc, campaign).items():
        _write_summary_sheet(wb.create_sheet(name), rows)
    path = _temp_path(".xlsx")
    wb.save(path)
    yield from _file_chunks(path)


def _write_summary_sheet(sheet, rows: list[list]) -> None:
    """Rows into a write-only sheet with the layout of :func:`summary_workbook.sheet_layout`:
    readable column widths, the heading frozen, proportions as percentages."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    headed, widths, percent = summary_workbook.sheet_layout(rows)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"A{headed + 1}"
    for number, row in enumerate(rows):
        values = neutralise_row(row)
        if number < headed or not percent:
            sheet.append(values)
            continue
        cells = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if i in percent and isinstance(value, float):
                cell.number_format = summary_workbook.PERCENT_FORMAT
            cells.append(cell)
        sheet.append(cells)


def indicator_chunks(campaign: Campaign, *, session: Session,
                     filters: ScoreFilters | None = None,
                     progress: ProgressReport | None = None) -> Iterator[bytes]:
    """The bureau's indicator table (:mod:`indicator_table`) as an XLSX; the evaluator's
    note is text a spreadsheet must not evaluate."""
    if progress is not None:
        progress(0, 1)
    doc = scores.scores_document(campaign, filters, session=session)
    rows = [replace(r, note=neutralise(r.note))
            for r in indicator_table.indicator_rows(campaign, doc, session=session)]
    yield indicator_table.indicator_workbook(campaign, rows, snapshot=doc.snapshot)


def backcheck_chunks(campaign: Campaign, *, session: Session,
                     filters: ScoreFilters | None = None,
                     progress: ProgressReport | None = None) -> Iterator[bytes]:
    """The back-check results (:mod:`backcheck_document`; pseudonyms only; not filtered)."""
    from survey_app.services.backcheck_document import backcheck_document, backcheck_workbook

    if progress is not None:
        progress(0, 1)
    yield backcheck_workbook(backcheck_document(campaign, session=session))


EXPORTERS = {"csv": csv_chunks, "xlsx": xlsx_chunks, "sav": sav_chunks,
             "summary": summary_chunks, "indicator": indicator_chunks,
             "backchecks": backcheck_chunks}


def export_chunks(campaign: Campaign, fmt: str, *, session: Session,
                  filters: ScoreFilters | None = None,
                  progress: ProgressReport | None = None) -> Iterator[bytes]:
    if fmt not in EXPORTERS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {sorted(EXPORTERS)}")
    return EXPORTERS[fmt](campaign, session=session, filters=filters, progress=progress)


def filename(campaign: Campaign, fmt: str) -> str:
    stem = {"summary": f"{campaign.slug}-summary", "indicator": f"{campaign.slug}-indicator",
            "backchecks": f"{campaign.slug}-backchecks"}.get(fmt, f"{campaign.slug}-responses")
    return f"{stem}.{EXTENSIONS[fmt]}"
