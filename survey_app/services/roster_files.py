"""Reading a roster file (CSV or XLSX) into rows keyed by canonical column names.

Kept apart from the checks and the import (:mod:`survey_app.services.roster`): this half
deals with hostile or merely unusual files (sizes, zip bombs, encodings, headers spelled
otherwise, a column mapping typed on upload) and never touches the database.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence

from flask_babel import gettext as _

from questionnaires import workbooks
from survey_app.services.roster import (
    COLUMNS,
    REQUIRED,
    ROSTER_LIMITS,
    RosterImportError,
    RosterRow,
    RowProblem,
)

# Row-number columns that spreadsheets commonly carry; ignored rather than rejected.
IGNORED_COLUMNS = frozenset({"序号", "no", "no.", "#"})
#: The target of a column mapping that skips the column.
IGNORE_WORDS = frozenset({"忽略", "ignore", "-"})
_HEADER_LOOKUP = {name.lower(): key for key, names in COLUMNS.items() for name in names}


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM ("Unicode text" from Excel), then
    GB18030 (a superset of GBK, as Excel/WPS save); refused with a clear message otherwise."""
    try:
        return workbooks.decode_text(data)
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, _("file"), str(exc))]) from None


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" and some exports separate with tabs.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if number > ROSTER_LIMITS.max_rows + 1:
                raise workbooks.FileRefused(
                    f"文件超过 {ROSTER_LIMITS.max_rows} 行 / the file has more than "
                    f"{ROSTER_LIMITS.max_rows} rows")
            yield row
    except csv.Error as exc:
        raise RosterImportError([RowProblem(reader.line_num, _("file"), _(
            "not a readable CSV file (%(reason)s)", reason=exc))]) from None


def parse_column_mapping(text: str) -> dict[str, str]:
    """The column mapping typed on upload: one ``文件中的列名=标准列名`` per line (or ``;``),
    the standard name any accepted header (户编号 or household_code …) or ``忽略``/``ignore``
    for a column to skip. Returns file header -> canonical column (``""``: ignored).

    >>> parse_column_mapping("手机＝联系电话；备注=忽略")
    {'手机': 'phone', '备注': ''}
    """
    mapping: dict[str, str] = {}
    problems = []
    for line in re.split(r"[\n;；]", unicodedata.normalize("NFKC", text or "")):
        if not line.strip():
            continue
        written, equals, target = line.partition("=")
        written, target = written.strip(), target.strip()
        canonical = "" if target.lower() in IGNORE_WORDS else _HEADER_LOOKUP.get(target.lower())
        if not equals or not written or canonical is None:
            known = " / ".join(names[0] for names in COLUMNS.values())
            problems.append(RowProblem(0, _("column mapping"), _(
                "%(line)s: write 文件中的列名=标准列名, the standard name one of %(known)s "
                "(or 忽略 to skip the column)", line=repr(line.strip()), known=known)))
            continue
        mapping[written.lower()] = canonical
    if problems:
        raise RosterImportError(problems)
    return mapping


def read_roster_file(filename: str, data: bytes, *,
                     columns: dict[str, str] | None = None) -> list[RosterRow]:
    """Parse a CSV or XLSX roster into rows keyed by canonical column names.

    The file is read under :data:`ROSTER_LIMITS` (:mod:`questionnaires.workbooks`): a file
    too large, a zip bomb, a sheet declaring millions of cells or an unknown encoding is
    refused as a problem of the file, before or while reading it.
    """
    try:
        workbooks.check_size(len(data), ROSTER_LIMITS)
        if filename.lower().endswith(".xlsx"):
            with workbooks.SafeWorkbook(data, ROSTER_LIMITS) as workbook:
                return _roster_rows(workbook.sheets()[0].iter_rows(values_only=True),
                                    columns or {})
        if filename.lower().endswith(".csv"):
            return _roster_rows(_csv_rows(decode_csv_bytes(data)), columns or {})
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, _("file"), str(exc))]) from None
    raise RosterImportError([RowProblem(0, _("file"),
                                        _("only .csv and .xlsx files are accepted"))])


def read_roster_path(path: str, *, columns: dict[str, str] | None = None) -> list[RosterRow]:
    """:func:`read_roster_file` for a file on disk, its size checked before it is read."""
    try:
        data = workbooks.read_file(path, ROSTER_LIMITS)
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, _("file"), str(exc))]) from None
    return read_roster_file(path, data, columns=columns)


def _roster_rows(table: Iterator[Sequence[object]], columns: dict[str, str]) -> list[RosterRow]:
    header = next(table, None)
    if header is None:
        raise RosterImportError([RowProblem(1, _("header"), _("the file is empty"))])
    mapping, headers = _map_header(list(header), columns)
    rows = []
    for number, cells in enumerate(table, start=2):
        values = {canonical: _cell_text(cells[i]) if i < len(cells) else ""
                  for i, canonical in mapping.items()}
        if any(values.values()):
            rows.append(RosterRow(number, values, headers))
    return rows


def _map_header(cells: list[object], columns: dict[str, str]) -> tuple[dict[int, str],
                                                                      dict[str, str]]:
    """Column index → canonical column, and canonical column → header as written;
    ``columns`` (:func:`parse_column_mapping`) names the headers the file spells otherwise.

    Raises RosterImportError listing every unknown, repeated or missing required column.
    """
    header = [str(cell or "").replace("\ufeff", "").strip() for cell in cells]
    mapping: dict[int, str] = {}
    headers: dict[str, str] = {}
    problems = []
    for index, name in enumerate(header):
        canonical = columns.get(name.lower(), _HEADER_LOOKUP.get(name.lower()))
        if not canonical:
            if name and name.lower() not in IGNORED_COLUMNS and canonical is None:
                known = " / ".join(f"{names[0]}/{names[1]}" for names in COLUMNS.values())
                problems.append(RowProblem(1, name, _(
                    "unknown column; known columns: %(known)s; or name it in the column "
                    "mapping (文件中的列名=标准列名, 忽略 to skip it)", known=known)))
            continue
        if canonical in mapping.values():
            problems.append(RowProblem(1, name, _("column appears twice (also %(other)s)",
                                                  other=headers[canonical])))
            continue
        mapping[index] = canonical
        headers[canonical] = name
    for required in REQUIRED:
        if required not in mapping.values():
            problems.append(RowProblem(1, COLUMNS[required][0],
                                       _("required column is missing")))
    if problems:
        raise RosterImportError(problems)
    return mapping, headers


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores household codes typed as numbers as floats
    return str(value).strip()
