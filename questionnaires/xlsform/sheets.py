"""Reading the sheets of an XLSForm workbook: rows, bilingual columns, choice lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from questionnaires.workbooks import GuardedRows

_CODE = re.compile(r"0|[1-9][0-9]{0,3}")


@dataclass(frozen=True)
class Problem:
    """Something in the workbook that was not converted, or a reason the result is invalid.

    ``row`` is 1-based as Excel shows it (the header is row 1); None for the workbook as a
    whole.
    """

    sheet: str
    row: int | None
    message: str

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Row:
    """One non-empty row: its number as Excel shows it, cells by (column, language)."""

    number: int
    cells: dict[tuple[str, str], str]

    def get(self, column: str, language: str = "") -> str:
        return self.cells.get((column, language), "")

    def text(self, column: str) -> dict[str, str] | None:
        """Bilingual text from ``column::Chinese (zh)`` (or plain ``column``) and English."""
        chinese = self.get(column, "zh_CN") or self.get(column)
        english = self.get(column, "en")
        if not chinese and not english:
            return None
        text = {"zh_CN": chinese} if chinese else {}
        if english:
            text["en"] = english
        return text


@dataclass
class ChoiceList:
    """One list of the choices sheet; ``renamed`` maps names to the codes given when they
    differ (non-numeric names, a reversed scale recoded); ``direction`` is the list's
    ``scale_direction`` cell as written (see questionnaires.scale_direction) and ``settled``
    whether the list may be a rating scale, once the conversion has decided it."""

    row: int
    name: str = ""
    codes: list[str] = field(default_factory=list)
    labels: list[dict[str, str] | None] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    direction: str = ""
    settled: bool | None = None


def read_rows(sheet: GuardedRows, name: str, problems: list[Problem]) -> Iterator[Row]:
    """The non-empty rows below the header, cells keyed by (column, language)."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    columns = [_column(cell, name, problems) for cell in header]
    for number, values in enumerate(rows, start=2):
        cells = {
            column: cell_text(value)
            for column, value in zip(columns, values, strict=False)
            if column is not None and cell_text(value)
        }
        if cells:
            yield Row(number, cells)


def _column(cell: object, sheet: str, problems: list[Problem]) -> tuple[str, str] | None:
    header = cell_text(cell)
    if not header:
        return None
    base, _, suffix = header.partition("::")
    if not suffix and ":" in base:
        # Spellings pyxform still accepts: "bind:relevant", "bind::jr:constraintMsg" aside,
        # and "label:English (en)" with a single colon before the language.
        prefix, _, rest = base.partition(":")
        if prefix.strip().lower() == "bind":
            base = rest
        elif _language(rest) is not None:
            base, suffix = prefix, rest
    base = base.strip().lower().replace(" ", "_")
    if not suffix:
        return (base, "")
    language = _language(suffix)
    if language is None:
        problems.append(
            Problem(sheet, 1, f"column {header!r}: language not recognised, ignored")
        )
        return None
    return (base, language)


def read_choice_lists(sheet: GuardedRows, problems: list[Problem]) -> dict[str, ChoiceList]:
    """The choice lists by name; lists with non-numeric names are renumbered 1, 2, …"""
    lists: dict[str, ChoiceList] = {}
    for row in read_rows(sheet, "choices", problems):
        list_name = row.get("list_name")
        if not list_name:
            problems.append(Problem("choices", row.number, "no list_name: row skipped"))
            continue
        choice_list = lists.setdefault(list_name, ChoiceList(row.number, list_name))
        choice_list.codes.append(row.get("name"))
        choice_list.labels.append(row.text("label"))
        direction = row.get("scale_direction")
        if direction and choice_list.direction and direction != choice_list.direction:
            problems.append(Problem("choices", row.number, f"list {list_name!r}: scale_direction "
                                    f"{direction!r} differs from {choice_list.direction!r} "
                                    "given above: the first is kept"))
        choice_list.direction = choice_list.direction or direction
    for list_name, choice_list in lists.items():
        if not all(_CODE.fullmatch(code) for code in choice_list.codes):
            names = choice_list.codes
            # Every choice gets its own code even when a name repeats (cascading selects
            # repeat names under different filters); a relevant naming it means the first.
            choice_list.codes = [str(i) for i in range(1, len(names) + 1)]
            choice_list.renamed = {}
            for name, code in zip(names, choice_list.codes, strict=True):
                choice_list.renamed.setdefault(name, code)
            pairs = ", ".join(f"{old}→{new}" for old, new in zip(names, choice_list.codes,
                                                                  strict=True))
            problems.append(
                Problem(
                    "choices",
                    choice_list.row,
                    f"list {list_name!r}: choice names are not numeric codes, "
                    f"renumbered ({pairs})",
                )
            )
    return lists


def read_dimension_labels(
    sheet: GuardedRows, problems: list[Problem], rows: dict[str, int]
) -> dict[str, dict[str, str] | None]:
    """Dimension labels by id; ``rows`` gets the row each id is first named on."""
    labels: dict[str, dict[str, str] | None] = {}
    for row in read_rows(sheet, "dimensions", problems):
        name = row.get("name")
        if name:
            labels[name] = row.text("label")
            rows.setdefault(name, row.number)
    return labels


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _language(suffix: str) -> str | None:
    suffix = suffix.strip().lower()
    code = re.search(r"\(([^)]*)\)", suffix)
    tag = code.group(1).strip() if code else suffix
    if tag in {"zh", "zh_cn", "zh-cn", "zh-hans", "chinese", "中文"} or suffix.startswith(
        ("chinese", "中文")
    ):
        return "zh_CN"
    if tag in {"en", "english"} or suffix.startswith("english"):
        return "en"
    return None
