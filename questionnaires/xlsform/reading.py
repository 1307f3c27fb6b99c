"""Reading an XLSForm workbook with pyxform, after the checks of :mod:`questionnaires.workbooks`.

The workbook is opened once, read-only and under :data:`~questionnaires.workbooks.XLSFORM_LIMITS`
(size, zip entries, declared dimensions, rows, columns, wall clock), and its sheets are handed
to pyxform (the ODK reference implementation) as the rows its own ``.xlsx`` reader would give:
cells as text, empty rows kept so that pyxform's ``[row : N]`` messages count as Excel does,
reading stopped after a run of empty rows or columns as pyxform stops. pyxform's
``workbook_to_json`` then parses the form (types and their spellings, column aliases such as
``bind:constraint`` or ``label:en``, languages, groups, choices) into its JSON form, which
:mod:`questionnaires.xlsform.converter` maps to ours.

Each survey row and choice carries its Excel row number to the JSON through an extra column,
:data:`ROW_COLUMN`, which pyxform passes through untouched: every message can name its row.
The ``dimensions`` sheet is ours (pyxform ignores it) and is returned as rows.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from questionnaires import workbooks

ROW_COLUMN = "survey_app_row"
# The sheets pyxform reads (pyxform.constants.SUPPORTED_SHEET_NAMES) and ours.
_PYXFORM_SHEETS = ("survey", "choices", "settings", "external_choices", "osm", "entities")
_SHEETS_WITH_ROWS = frozenset({"survey", "choices"})
# pyxform.xls2json_backends: a run of this many empty columns or rows ends the data.
_EMPTY_COLUMNS_END = 20
_EMPTY_ROWS_END = 60
_WHITESPACE = re.compile(r" +")


class FormRefused(ValueError):
    """The workbook cannot be read or pyxform refuses it; ``str()`` is the message."""


@dataclass
class ReadForm:
    """pyxform's JSON form of the workbook, its warnings, and our ``dimensions`` sheet."""

    json: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    dimensions: list[dict[str, str]] = field(default_factory=list)


def read_xlsform(path: str | PathLike[str]) -> ReadForm:
    """Read the workbook safely and parse it with pyxform.

    Raises :class:`FormRefused` for a file refused by the limits, unreadable, or refused
    by pyxform (its message, which names the sheet, row and column it can).
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import DefinitionData

    try:
        with workbooks.SafeWorkbook(path, workbooks.XLSFORM_LIMITS) as workbook:
            sheets = {sheet.title: _sheet_rows(sheet) for sheet in workbook.sheets()}
    except workbooks.FileRefused as exc:
        raise FormRefused(str(exc)) from None
    names = list(sheets)
    book: dict[str, Any] = {"sheet_names": names, "fallback_form_name": Path(path).stem}
    for title, (header, rows) in sheets.items():
        name = title.strip().lower()
        if name not in _PYXFORM_SHEETS and len(sheets) == 1:
            name = "survey"  # pyxform reads a workbook's only sheet as the survey
        if name in _PYXFORM_SHEETS:
            if name in _SHEETS_WITH_ROWS:
                header, rows = _with_row_numbers(header, rows)
            book[name] = rows
            book[f"{name}_header"] = [dict.fromkeys(header)] if header else []
    dimensions = next((_records(*rows) for title, rows in sheets.items()
                       if title.strip().lower() == "dimensions"), [])
    warnings: list[str] = []
    try:
        parsed = workbook_to_json(
            workbook_dict=DefinitionData(**book), fallback_form_name=Path(path).stem,
            warnings=warnings)
    except PyXFormError as exc:
        raise FormRefused(f"pyxform refuses the form: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a workbook pyxform trips on is refused too
        raise FormRefused(
            f"pyxform cannot read the form ({type(exc).__name__}: {exc})") from None
    return ReadForm(parsed, warnings, dimensions)


def _sheet_rows(sheet: workbooks.GuardedRows) -> tuple[list[str | None], list[dict[str, str]]]:
    """The header and the rows below it as pyxform's xlsx reader gives them."""
    rows = sheet.iter_rows(values_only=True)
    header = _header(next(rows, ()), sheet.title)
    records: list[dict[str, str]] = []
    empty_run = 0
    for values in rows:
        record = {column: text for column, value in zip(header, values, strict=False)
                  if column is not None and (text := cell_text(value))}
        if not record:
            if empty_run == _EMPTY_ROWS_END:
                break
            empty_run += 1
        else:
            empty_run = 0
        records.append(record)
    return header, records[:len(records) - empty_run]


def _header(cells: tuple[object, ...], title: str) -> list[str | None]:
    header: list[str | None] = []
    empty_run = 0
    for cell in cells:
        text = cell_text(cell)
        if not text:
            header.append(None)
            if empty_run == _EMPTY_COLUMNS_END:
                break
            empty_run += 1
            continue
        empty_run = 0
        column = _WHITESPACE.sub(" ", text)
        if column in header:
            raise FormRefused(f"pyxform refuses the form: the sheet {title!r} has the column "
                              f"header {column!r} twice")
        header.append(column)
    return header[:len(header) - empty_run]


def _with_row_numbers(
    header: list[str | None], rows: list[dict[str, str]]
) -> tuple[list[str | None], list[dict[str, str]]]:
    """Each non-empty row marked with its Excel row number (the header is row 1)."""
    marked = [{**row, ROW_COLUMN: str(number)} if row else row
              for number, row in enumerate(rows, start=2)]
    return [*header, ROW_COLUMN], marked


def _records(header: list[str | None], rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows of one of our own sheets, each with its row number under :data:`ROW_COLUMN`."""
    return _with_row_numbers(header, rows)[1]


def cell_text(value: object) -> str:
    """A cell as pyxform reads it (``xlsx_value_to_str``), stripped; "" when empty.

    >>> cell_text(3.0), cell_text(True), cell_text(" a\\xa0b "), cell_text(None)
    ('3', 'TRUE', 'a b', '')
    """
    if value is None:
        return ""
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | datetime.datetime | datetime.time):
        return str(value)
    return str(value).strip().replace("\xa0", " ")
