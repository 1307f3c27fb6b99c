"""The parts of pyxform's JSON form that our conversion reads: texts by language, choice
lists with their codes, row numbers, and the problems found on the way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from questionnaires.xlsform.reading import ROW_COLUMN

_CODE = re.compile(r"0|[1-9][0-9]{0,3}")
# pyxform's key for a column without a language (plain ``label``), read as Chinese.
DEFAULT_LANGUAGE = "default"


@dataclass(frozen=True)
class Problem:
    """Something in the workbook that was not converted as it stands.

    ``row`` is 1-based as Excel shows it (the header is row 1), None for the workbook or
    the sheet as a whole; ``column`` the XLSForm column, where one is concerned.
    ``refuses``: the conversion is refused (the YAML is still written, to be finished by
    hand), because a feature cannot be represented or, with ``invalid``, because the
    converted definition fails our own checks (no overall item, no Chinese text…);
    otherwise it is a note on a faithful change (an id renamed, codes renumbered, a note
    moved).
    """

    sheet: str
    row: int | None
    message: str
    column: str | None = None
    refuses: bool = False
    invalid: bool = False

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        if self.column:
            where = f"{where}, column {self.column!r}" if where else f"column {self.column!r}"
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ChoiceList:
    """One list of the choices sheet, as pyxform read it; ``renamed`` maps names to the
    codes given when they differ (non-numeric or repeated names, a reversed scale recoded);
    ``direction`` is the list's ``scale_direction`` cell as written (see
    questionnaires.scale_direction) and ``settled`` whether the list may be a rating
    scale, once the conversion has decided it."""

    row: int | None
    name: str = ""
    codes: list[str] = field(default_factory=list)
    labels: list[dict[str, str] | None] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    direction: str = ""
    settled: bool | None = None
    # The codes are ours (the names were renumbered): never read as a rating scale.
    invented: bool = False


def row_of(element: dict[str, Any]) -> int | None:
    """The Excel row an element or choice of pyxform's JSON was read from."""
    number = element.get(ROW_COLUMN)
    return int(number) if number else None


def localized(value: object, other_languages: set[str] | None = None) -> dict[str, str] | None:
    """Our bilingual text from a pyxform text: a plain string (no language: Chinese) or
    ``{language: text}``; languages other than Chinese and English go to
    ``other_languages``.

    >>> localized({"Chinese (zh)": "是", "English (en)": "Yes", "French (fr)": "Oui"})
    {'zh_CN': '是', 'en': 'Yes'}
    >>> localized("是")
    {'zh_CN': '是'}
    """
    if isinstance(value, str):
        value = {DEFAULT_LANGUAGE: value}
    if not isinstance(value, dict):
        return None
    texts: dict[str, str] = {}
    for language, text in value.items():
        ours = "zh_CN" if language == DEFAULT_LANGUAGE else language_code(language)
        if ours is None:
            if other_languages is not None and text:
                other_languages.add(language)
            continue
        if text and isinstance(text, str) and ours not in texts:
            texts[ours] = text
    if not texts:
        return None
    return {code: texts[code] for code in ("zh_CN", "en") if code in texts}


def choice_list(name: str, choices: list[dict[str, Any]], problems: list[Problem],
                other_languages: set[str]) -> ChoiceList:
    """A choice list from pyxform's choices; names that are not numeric codes, or repeat
    (cascading lists repeat them under different filters), are renumbered 1, 2, … and a
    relevant naming a repeated name means its first choice."""
    rows = [row_of(choice) for choice in choices]
    result = ChoiceList(next((row for row in rows if row), None), name)
    for choice in choices:
        result.codes.append(str(choice.get("name", "")))
        result.labels.append(localized(choice.get("label"), other_languages))
        _direction(result, choice, problems)
    names = result.codes
    if all(_CODE.fullmatch(code) for code in names) and len(set(names)) == len(names):
        return result
    result.codes = [str(number) for number in range(1, len(names) + 1)]
    result.invented = True
    for old, new in zip(names, result.codes, strict=True):
        result.renamed.setdefault(old, new)
    pairs = ", ".join(f"{old}→{new}" for old, new in zip(names, result.codes, strict=True))
    problems.append(Problem("choices", result.row, (
        f"list {name!r}: choice names are not distinct numeric codes, renumbered ({pairs})"),
        "name"))
    return result


def _direction(result: ChoiceList, choice: dict[str, Any], problems: list[Problem]) -> None:
    direction = str(choice.get("scale_direction") or "").strip()
    if direction and result.direction and direction != result.direction:
        problems.append(Problem("choices", row_of(choice), (
            f"list {result.name!r}: scale_direction {direction!r} differs from "
            f"{result.direction!r} given above: the first is kept"), "scale_direction"))
    result.direction = result.direction or direction


def dimension_labels(
    records: list[dict[str, str]], rows: dict[str, int]
) -> dict[str, dict[str, str] | None]:
    """Labels by dimension id from our ``dimensions`` sheet (columns ``name`` and
    ``label``, ``label::Chinese (zh)``…); ``rows`` gets the row each id is first named on."""
    labels: dict[str, dict[str, str] | None] = {}
    for record in records:
        cells = {_column(header): text for header, text in record.items()}
        name = cells.get(("name", ""), "")
        if not name:
            continue
        texts = {language or DEFAULT_LANGUAGE: text for (column, language), text in
                 cells.items() if column == "label"}
        labels.setdefault(name, localized(texts))
        rows.setdefault(name, int(record[ROW_COLUMN]))
    return labels


def _column(header: str) -> tuple[str, str]:
    base, _, suffix = header.partition("::")
    return base.strip().lower(), suffix.strip()


def language_code(language: str) -> str | None:
    """``zh_CN`` or ``en`` for a pyxform language name, None for any other language.

    >>> language_code("Chinese (zh)"), language_code("中文"), language_code("en")
    ('zh_CN', 'zh_CN', 'en')
    >>> language_code("French (fr)") is None
    True
    """
    name = language.strip().lower()
    code = re.search(r"\(([^)]*)\)", name)
    tag = code.group(1).strip() if code else name
    if tag in {"zh", "zh_cn", "zh-cn", "zh-hans", "chinese", "中文"} or name.startswith(
        ("chinese", "中文")
    ):
        return "zh_CN"
    if tag in {"en", "eng", "english"} or name.startswith("english"):
        return "en"
    return None
