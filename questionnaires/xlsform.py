"""Import of ODK / KoboToolbox XLSForm workbooks into the questionnaire YAML format.

Converted: the ``survey``, ``choices`` and ``settings`` sheets; the types ``select_one LIST``,
``select_multiple LIST``, ``integer``, ``text`` and ``note``; ``begin group`` / ``end group``
(one section per top-level group); ``required``; ``relevant`` of the forms
``${q} = 'c'``, ``selected(${q}, 'c')`` and several of them on one question joined with
``or``; simple ``constraint`` bounds on integers (``. >= 1 and . <= 20``) and text
(``string-length(.) <= 200``); ``label`` / ``hint`` columns in Chinese and English
(``label::Chinese (zh)``, ``label::English (en)``, or plain ``label`` as the Chinese text);
``form_title`` and ``form_id`` in settings.

XLSForm has no dimensions or overall item, so the survey sheet may carry two extra columns:
``dimension`` (a snake_case dimension id on each rating item) and ``overall`` (``yes`` on the
overall-satisfaction item). Dimension labels come from an optional ``dimensions`` sheet with
``name`` and ``label`` columns. A ``select_one`` whose list has the codes 5, 4, 3, 2, 1 (and at
most one more code, taken as the "don't know" code) becomes a rating item, unless the survey
sheet has a ``dimension`` column and the row leaves it blank.

Anything that cannot be converted is reported as a :class:`Problem` with its sheet and row
(1-based as Excel shows it; the header is row 1), and conversion continues with the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from questionnaires.errors import QuestionnaireError
from questionnaires.loader import dump_definition, load_text
from questionnaires.model import RATING_CODES, Questionnaire

_TRUE = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE = frozenset({"", "no", "false", "false()", "0", "n"})
_CODE = re.compile(r"0|[1-9][0-9]{0,3}")
_METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
    }
)
_DEFAULT_NA_LABEL = {"zh_CN": "不清楚", "en": "Don't know"}
_QUOTED = r"""(?:'(?P<{0}1>[^']*)'|"(?P<{0}2>[^"]*)"|(?P<{0}3>-?\d+))"""
_EQUALS = re.compile(r"\$\{(?P<name>[^}\s]+)\}\s*=\s*" + _QUOTED.format("v"))
_SELECTED = re.compile(
    r"selected\(\s*\$\{(?P<name>[^}\s]+)\}\s*,\s*" + _QUOTED.format("v") + r"\s*\)"
)
_BOUND = re.compile(r"\.\s*(?P<op>>=|<=|>|<)\s*(?P<n>-?\d+)")
_LENGTH = re.compile(r"string-length\(\s*\.\s*\)\s*(?P<op><=|<)\s*(?P<n>\d+)")
_PATH_IN_SURVEY = re.compile(r"sections\[(?P<s>\d+)\](?:\.questions\[(?P<q>\d+)\])?")


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


@dataclass(frozen=True)
class ConversionResult:
    """``yaml_text`` is the converted definition (produced even when it is invalid, to be
    finished by hand); ``questionnaire`` is set only when that text validates."""

    yaml_text: str
    questionnaire: Questionnaire | None
    problems: list[Problem] = field(default_factory=list)


def convert_xlsform(path: str | PathLike[str]) -> ConversionResult:
    """Convert an XLSForm workbook (.xlsx) into the questionnaire YAML format."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for unreadable files
        return ConversionResult("", None, [Problem("", None, f"cannot read the workbook: {exc}")])
    try:
        sheets = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
        if "survey" not in sheets:
            return ConversionResult(
                "", None, [Problem("", None, "the workbook has no 'survey' sheet")]
            )
        converter = _Converter(Path(path).stem)
        data = converter.convert(sheets)
    finally:
        workbook.close()
    yaml_text = f"# Converted from {Path(path).name} by questionnaires.xlsform\n" + dump_definition(
        data
    )
    try:
        questionnaire: Questionnaire | None = load_text(yaml_text, source=str(path))
    except QuestionnaireError as exc:
        questionnaire = None
        converter.problems.extend(
            converter.locate(issue.path, issue.message) for issue in exc.issues
        )
    return ConversionResult(yaml_text, questionnaire, converter.problems)


@dataclass
class _Row:
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
class _ChoiceList:
    row: int
    codes: list[str] = field(default_factory=list)
    labels: list[dict[str, str] | None] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)


class _Converter:
    def __init__(self, fallback_id: str) -> None:
        self.fallback_id = fallback_id
        self.problems: list[Problem] = []
        self.sections: list[dict[str, Any]] = []
        self.section_rows: list[int] = []
        self.question_rows: dict[tuple[int, int], int] = {}
        self.question_ids: dict[str, str] = {}  # XLSForm name -> our id
        self.question_lists: dict[str, _ChoiceList] = {}  # our id -> its choice list
        self.dimension_rows: dict[str, int] = {}
        self.scale: dict[str, Any] | None = None
        self.intro: list[dict[str, str]] = []
        self.choices: dict[str, _ChoiceList] = {}
        self.has_dimension_column = False
        self.form_title: dict[str, str] | None = None

    # -- the whole workbook --------------------------------------------------------------

    def convert(self, sheets: dict[str, Worksheet]) -> dict[str, Any]:
        settings = (
            next(iter(self._rows(sheets["settings"], "settings")), None)
            if "settings" in sheets
            else None
        )
        self.choices = self._choice_lists(sheets["choices"]) if "choices" in sheets else {}
        dimension_labels = (
            self._dimension_labels(sheets["dimensions"]) if "dimensions" in sheets else {}
        )
        survey_rows = list(self._rows(sheets["survey"], "survey"))
        survey_columns = {column for row in survey_rows for column, _ in row.cells}
        self.has_dimension_column = "dimension" in survey_columns
        form_id = settings.get("form_id") if settings else ""
        title = settings.text("form_title") if settings else None
        self.form_title = title
        self._survey(survey_rows)

        if title is None:
            self.problems.append(
                Problem("settings", None, "no form_title: the form id is used as the title")
            )
        data: dict[str, Any] = {
            "id": self._identifier(
                form_id or self.fallback_id, "settings", 2 if settings else None
            ),
            "title": title or {"zh_CN": form_id or self.fallback_id},
        }
        if self.intro:
            data["intro"] = _join_texts(self.intro)
        data["scale"] = self.scale or _default_scale()
        data["dimensions"] = self._dimensions(dimension_labels)
        data["sections"] = self.sections
        return data

    def locate(self, path: str, message: str) -> Problem:
        """A validation issue as a Problem on the survey row it came from, where known."""
        match = _PATH_IN_SURVEY.match(path)
        row = None
        if match and match["q"] is not None:
            row = self.question_rows.get((int(match["s"]), int(match["q"])))
        elif match:
            row = (
                self.section_rows[int(match["s"])]
                if int(match["s"]) < len(self.section_rows)
                else None
            )
        text = f"{path}: {message}" if path else message
        return Problem("survey", row, text)

    # -- sheets --------------------------------------------------------------------------

    def _rows(self, sheet: Worksheet, name: str) -> Iterator[_Row]:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        columns = [self._column(cell, name) for cell in header]
        for number, values in enumerate(rows, start=2):
            cells = {
                column: _cell_text(value)
                for column, value in zip(columns, values, strict=False)
                if column is not None and _cell_text(value)
            }
            if cells:
                yield _Row(number, cells)

    def _column(self, cell: object, sheet: str) -> tuple[str, str] | None:
        header = _cell_text(cell)
        if not header:
            return None
        base, _, suffix = header.partition("::")
        base = base.strip().lower().replace(" ", "_")
        if not suffix:
            return (base, "")
        language = _language(suffix)
        if language is None:
            self.problems.append(
                Problem(sheet, 1, f"column {header!r}: language not recognised, ignored")
            )
            return None
        return (base, language)

    def _choice_lists(self, sheet: Worksheet) -> dict[str, _ChoiceList]:
        lists: dict[str, _ChoiceList] = {}
        for row in self._rows(sheet, "choices"):
            list_name = row.get("list_name")
            if not list_name:
                self.problems.append(Problem("choices", row.number, "no list_name: row skipped"))
                continue
            choice_list = lists.setdefault(list_name, _ChoiceList(row.number))
            choice_list.codes.append(row.get("name"))
            choice_list.labels.append(row.text("label"))
        for list_name, choice_list in lists.items():
            if not all(_CODE.fullmatch(code) for code in choice_list.codes):
                choice_list.renamed = {
                    code: str(i) for i, code in enumerate(choice_list.codes, start=1)
                }
                choice_list.codes = list(choice_list.renamed.values())
                pairs = ", ".join(f"{old}→{new}" for old, new in choice_list.renamed.items())
                self.problems.append(
                    Problem(
                        "choices",
                        choice_list.row,
                        f"list {list_name!r}: choice names are not numeric codes, "
                        f"renumbered ({pairs})",
                    )
                )
        return lists

    def _dimension_labels(self, sheet: Worksheet) -> dict[str, dict[str, str] | None]:
        labels: dict[str, dict[str, str] | None] = {}
        for row in self._rows(sheet, "dimensions"):
            name = row.get("name")
            if name:
                labels[name] = row.text("label")
                self.dimension_rows.setdefault(name, row.number)
        return labels

    def _dimensions(self, labels: dict[str, dict[str, str] | None]) -> list[dict[str, Any]]:
        used: list[str] = []
        for section in self.sections:
            for question in section["questions"]:
                dimension = question.get("dimension")
                if dimension and dimension not in used:
                    used.append(dimension)
        dimensions = []
        for dimension in used:
            label = labels.get(dimension)
            if label is None:
                self.problems.append(
                    Problem(
                        "dimensions",
                        self.dimension_rows.get(dimension),
                        f"dimension {dimension!r} has no label: its id is used",
                    )
                )
                label = {"zh_CN": dimension}
            dimensions.append({"id": dimension, "label": label})
        return dimensions

    # -- the survey sheet ----------------------------------------------------------------

    def _survey(self, rows: list[_Row]) -> None:
        section: dict[str, Any] | None = None
        group_depth = 0
        group_condition: tuple[int, dict[str, Any] | None] | None = None
        repeat_depth = 0
        overall_rows: list[int] = []
        for row in rows:
            kind, _, argument = " ".join(row.get("type").split()).partition(" ")
            kind = kind.lower()
            if kind in {"begin", "end"} and argument.lower() in {"group", "repeat"}:
                kind, argument = f"{kind}_{argument.lower()}", ""
            if repeat_depth:
                repeat_depth += {"begin_repeat": 1, "end_repeat": -1}.get(kind, 0)
                continue
            if kind == "begin_repeat":
                repeat_depth = 1
                self.problems.append(
                    Problem(
                        "survey",
                        row.number,
                        f"repeat {row.get('name')!r} is not supported: skipped with its rows",
                    )
                )
            elif kind == "begin_group":
                group_depth += 1
                if group_depth > 1:
                    self.problems.append(
                        Problem(
                            "survey",
                            row.number,
                            f"nested group {row.get('name')!r} flattened into its section",
                        )
                    )
                    continue
                section = self._new_section(row.get("name"), row.text("label"), row.number)
                relevant = row.get("relevant")
                group_condition = (
                    (row.number, self._condition(relevant, row.number)) if relevant else None
                )
            elif kind == "end_group":
                group_depth = max(0, group_depth - 1)
                if group_depth == 0:
                    section, group_condition = None, None
            elif kind == "note":
                self._note(row, section)
            elif kind in {"select_one", "select_multiple", "integer", "text"}:
                if section is None:
                    section = self._new_section(
                        f"section_{len(self.sections) + 1}", None, row.number
                    )
                question = self._question(row, kind, argument, group_condition)
                if question is not None:
                    if question.get("overall"):
                        overall_rows.append(row.number)
                    position = (len(self.sections) - 1, len(section["questions"]))
                    self.question_rows[position] = row.number
                    section["questions"].append(question)
            elif kind in _METADATA_TYPES:
                self.problems.append(
                    Problem("survey", row.number, f"metadata field {kind!r} ignored")
                )
            elif kind:
                self.problems.append(
                    Problem(
                        "survey",
                        row.number,
                        f"question type {row.get('type')!r} is not supported: row skipped",
                    )
                )
        if self.scale is not None and not self.has_dimension_column:
            self.problems.append(
                Problem(
                    "survey",
                    1,
                    "no 'dimension' column: every rating item needs a "
                    "dimension id (add the column, and a 'dimensions' sheet for labels)",
                )
            )
        if not overall_rows:
            self.problems.append(
                Problem(
                    "survey",
                    1,
                    "no overall item: add an 'overall' column and put "
                    "'yes' on the overall-satisfaction rating item",
                )
            )

    def _new_section(self, name: str, title: dict[str, str] | None, row: int) -> dict[str, Any]:
        section: dict[str, Any] = {
            "id": self._identifier(name or f"section_{len(self.sections) + 1}", "survey", row),
            "title": title
            or self.form_title
            or {"zh_CN": name or f"第{len(self.sections) + 1}部分"},
            "questions": [],
        }
        self.sections.append(section)
        self.section_rows.append(row)
        return section

    def _note(self, row: _Row, section: dict[str, Any] | None) -> None:
        text = row.text("label")
        if text is None:
            return
        if section is None:
            if self.sections:
                self.problems.append(
                    Problem("survey", row.number, "note between groups moved to the introduction")
                )
            self.intro.append(text)
            return
        if section["questions"]:
            self.problems.append(
                Problem(
                    "survey", row.number, "note after questions moved to the section description"
                )
            )
        existing = section.get("description")
        section["description"] = _join_texts([existing, text] if existing else [text])

    def _question(
        self,
        row: _Row,
        kind: str,
        list_name: str,
        group_condition: tuple[int, dict[str, Any] | None] | None,
    ) -> dict[str, Any] | None:
        qid = self._identifier(row.get("name"), "survey", row.number)
        self.question_ids[row.get("name")] = qid
        question: dict[str, Any] = {"id": qid}
        if kind in {"select_one", "select_multiple"}:
            choice_list = self.choices.get(list_name)
            if choice_list is None:
                self.problems.append(
                    Problem(
                        "survey",
                        row.number,
                        f"choice list {list_name!r} not found in the choices sheet",
                    )
                )
                return None
            self.question_lists[qid] = choice_list
            if kind == "select_one" and self._is_rating(row, choice_list):
                question["type"] = "rating"
            else:
                question["type"] = "single" if kind == "select_one" else "multiple"
                question["options"] = [
                    {"code": code, "label": label} if label else {"code": code}
                    for code, label in zip(choice_list.codes, choice_list.labels, strict=True)
                ]
        else:
            question["type"] = kind
        text = row.text("label")
        if text is not None:
            question["text"] = text
        hint = row.text("hint")
        if hint is not None:
            question["help"] = hint
        question["required"] = self._required(row)
        if question["type"] == "rating":
            self._rating_fields(row, question, self.question_lists[qid])
        self._constraint(row, question)
        condition = (
            self._condition(row.get("relevant"), row.number) if row.get("relevant") else None
        )
        if group_condition is not None:
            if row.get("relevant"):
                self.problems.append(
                    Problem(
                        "survey",
                        row.number,
                        "both the group and the question have "
                        "'relevant': only the question's condition is kept",
                    )
                )
            else:
                condition = group_condition[1]
        if condition is not None:
            question["show_if"] = condition
        return question

    def _is_rating(self, row: _Row, choice_list: _ChoiceList) -> bool:
        extra = set(choice_list.codes) - set(RATING_CODES)
        if not set(RATING_CODES) <= set(choice_list.codes) or len(extra) > 1:
            return False
        if self.has_dimension_column and not row.get("dimension"):
            return False
        labels = dict(zip(choice_list.codes, choice_list.labels, strict=True))
        na_code = next(iter(extra), None)
        if self.scale is None:
            self.scale = _default_scale()
            self.scale["codes"] = {code: labels[code] or {"zh_CN": code} for code in RATING_CODES}
            if na_code is not None:
                self.scale["na_code"] = na_code
                self.scale["na_label"] = labels[na_code] or _DEFAULT_NA_LABEL
        elif na_code is not None and na_code != self.scale["na_code"]:
            self.problems.append(
                Problem(
                    "survey",
                    row.number,
                    f"'don't know' code {na_code!r} differs from "
                    f"the scale's {self.scale['na_code']!r}: kept as a single choice",
                )
            )
            return False
        return True

    def _rating_fields(self, row: _Row, question: dict[str, Any], choice_list: _ChoiceList) -> None:
        if row.get("dimension"):
            question["dimension"] = self._identifier(row.get("dimension"), "survey", row.number)
        if row.get("overall").lower() in _TRUE:
            question["overall"] = True
        question["allow_na"] = len(set(choice_list.codes) - set(RATING_CODES)) == 1

    def _required(self, row: _Row) -> bool:
        value = row.get("required").lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problems.append(
                Problem(
                    "survey",
                    row.number,
                    f"required expression {row.get('required')!r} not supported: optional",
                )
            )
        return False

    def _constraint(self, row: _Row, question: dict[str, Any]) -> None:
        constraint = row.get("constraint")
        if not constraint:
            return
        parts = [part.strip() for part in re.split(r"\s+and\s+", constraint)]
        bounds = [_BOUND.fullmatch(part) for part in parts]
        if question["type"] == "integer" and all(bounds):
            for match in filter(None, bounds):
                bound = int(match["n"])
                op = match["op"]
                key = "min" if op.startswith(">") else "max"
                question[key] = bound + (op == ">") - (op == "<")
            return
        if (
            question["type"] == "text"
            and len(parts) == 1
            and (match := _LENGTH.fullmatch(parts[0]))
        ):
            question["max_length"] = int(match["n"]) - (match["op"] == "<")
            return
        self.problems.append(
            Problem("survey", row.number, f"constraint {constraint!r} not converted")
        )

    def _condition(self, expression: str, row: int) -> dict[str, Any] | None:
        terms = [
            _strip_parentheses(term)
            for term in re.split(r"\s+or\s+", _strip_parentheses(expression))
        ]
        matches = [_EQUALS.fullmatch(term) or _SELECTED.fullmatch(term) for term in terms]
        names = {match["name"] for match in matches if match}
        if not all(matches) or len(names) != 1:
            self.problems.append(
                Problem(
                    "survey",
                    row,
                    f"relevant {expression!r} is too complex to convert: "
                    "the question is shown to everyone",
                )
            )
            return None
        name = names.pop()
        qid = self.question_ids.get(name, name)
        renamed = self.question_lists[qid].renamed if qid in self.question_lists else {}
        codes = []
        for match in filter(None, matches):
            value = next(match[group] for group in ("v1", "v2", "v3") if match[group] is not None)
            codes.append(renamed.get(value, value))
        if len(codes) == 1:
            return {"question": qid, "equals": codes[0]}
        return {"question": qid, "in": list(dict.fromkeys(codes))}

    def _identifier(self, name: str, sheet: str, row: int | None) -> str:
        identifier = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
        if not identifier[:1].isalpha():
            identifier = f"q_{identifier}".rstrip("_")
        identifier = identifier[:64]
        if identifier != name:
            self.problems.append(
                Problem(sheet, row, f"name {name!r} renamed to {identifier!r} (ids are snake_case)")
            )
        return identifier


def _cell_text(value: object) -> str:
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


def _strip_parentheses(expression: str) -> str:
    expression = expression.strip()
    while expression.startswith("(") and expression.endswith(")") and _balanced(expression[1:-1]):
        expression = expression[1:-1].strip()
    return expression


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _join_texts(texts: list[dict[str, str]]) -> dict[str, str]:
    joined = {"zh_CN": "\n".join(t["zh_CN"] for t in texts if t.get("zh_CN"))}
    english = [t["en"] for t in texts if t.get("en")]
    if english:
        joined["en"] = "\n".join(english)
    return joined


def _default_scale() -> dict[str, Any]:
    """The scale of METHODS.md section 1, for workbooks without a rating list."""
    labels = ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    english = ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"]
    return {
        "codes": {
            code: {"zh_CN": zh, "en": en}
            for code, zh, en in zip(RATING_CODES, labels, english, strict=True)
        },
        "na_code": "9",
        "na_label": dict(_DEFAULT_NA_LABEL),
    }
