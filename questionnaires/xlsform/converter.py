"""Converting the rows of an XLSForm workbook into questionnaire definition data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from questionnaires import scale_direction
from questionnaires.elements import RATING_CODES
from questionnaires.workbooks import GuardedRows
from questionnaires.xlsform.expressions import constraint_bounds, relevant_codes
from questionnaires.xlsform.scale import DEFAULT_NA_LABEL, default_scale, settle_list_direction
from questionnaires.xlsform.sheets import (
    ChoiceList,
    Problem,
    Row,
    read_choice_lists,
    read_dimension_labels,
    read_rows,
)

_TRUE = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE = frozenset({"", "no", "false", "false()", "0", "n"})
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
_PATH_IN_SURVEY = re.compile(r"sections\[(?P<s>\d+)\](?:\.questions\[(?P<q>\d+)\])?")


@dataclass
class _SurveyWalk:
    """Where the walk down the survey sheet is: open section and group, skipped repeats."""

    section: dict[str, Any] | None = None
    group_depth: int = 0
    # Per open group (outermost first): (row, show_if) of its 'relevant', or None; passed on
    # to the questions inside it, nested groups included.
    group_conditions: list[tuple[int, dict[str, Any] | None] | None] = field(
        default_factory=list)
    repeat_depth: int = 0
    overall_rows: list[int] = field(default_factory=list)


class Converter:
    """Builds definition data from the sheets, collecting a Problem for whatever it cannot."""

    def __init__(self, fallback_id: str) -> None:
        self.fallback_id = fallback_id
        self.problems: list[Problem] = []
        self.sections: list[dict[str, Any]] = []
        self.section_rows: list[int] = []
        self.question_rows: dict[tuple[int, int], int] = {}
        self.question_ids: dict[str, str] = {}  # XLSForm name -> our id
        self.question_lists: dict[str, ChoiceList] = {}  # our id -> its choice list
        self.dimension_rows: dict[str, int] = {}
        self.scale: dict[str, Any] | None = None
        self.intro: list[dict[str, str]] = []
        self.choices: dict[str, ChoiceList] = {}
        self.has_dimension_column = False
        self.form_title: dict[str, str] | None = None
        self.scale_list = ""  # the choice list the scale's labels come from
        # A list refused as a rating scale (its direction unproven) refuses the conversion.
        self.refused = False

    # -- the whole workbook --------------------------------------------------------------

    def convert(self, sheets: dict[str, GuardedRows]) -> dict[str, Any]:
        settings = (
            next(iter(read_rows(sheets["settings"], "settings", self.problems)), None)
            if "settings" in sheets
            else None
        )
        self.choices = (
            read_choice_lists(sheets["choices"], self.problems) if "choices" in sheets else {}
        )
        dimension_labels = (
            read_dimension_labels(sheets["dimensions"], self.problems, self.dimension_rows)
            if "dimensions" in sheets
            else {}
        )
        survey_rows = list(read_rows(sheets["survey"], "survey", self.problems))
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
        data["scale"] = self.scale or default_scale()
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

    def _survey(self, rows: list[Row]) -> None:
        walk = _SurveyWalk()
        for row in rows:
            kind, _, argument = _modern_type(row.get("type")).partition(" ")
            kind = kind.lower()
            if kind in {"begin", "end"} and argument.lower() in {"group", "repeat"}:
                kind, argument = f"{kind}_{argument.lower()}", ""
            if walk.repeat_depth:
                walk.repeat_depth += {"begin_repeat": 1, "end_repeat": -1}.get(kind, 0)
                continue
            self._survey_row(row, kind, argument, walk)
        self._survey_sheet_problems(walk.overall_rows)

    def _survey_row(self, row: Row, kind: str, argument: str, walk: _SurveyWalk) -> None:
        if kind == "begin_repeat":
            walk.repeat_depth = 1
            self.problems.append(
                Problem(
                    "survey",
                    row.number,
                    f"repeat {row.get('name')!r} is not supported: skipped with its rows",
                )
            )
        elif kind == "begin_group":
            self._begin_group(row, walk)
        elif kind == "end_group":
            walk.group_depth = max(0, walk.group_depth - 1)
            if walk.group_conditions:
                walk.group_conditions.pop()
            if walk.group_depth == 0:
                walk.section = None
        elif kind == "note":
            self._note(row, walk.section)
        elif kind in {"select_one", "select_multiple", "integer", "text"}:
            self._add_question(row, kind, argument, walk)
        elif kind in _METADATA_TYPES:
            self.problems.append(Problem("survey", row.number, f"metadata field {kind!r} ignored"))
        elif kind:
            self.problems.append(
                Problem(
                    "survey",
                    row.number,
                    f"question type {row.get('type')!r} is not supported: row skipped",
                )
            )

    def _begin_group(self, row: Row, walk: _SurveyWalk) -> None:
        """A top-level group opens a section; nested groups are flattened into it."""
        walk.group_depth += 1
        relevant = row.get("relevant")
        walk.group_conditions.append(
            (row.number, self._condition(relevant, row.number)) if relevant else None
        )
        if walk.group_depth > 1:
            self.problems.append(
                Problem(
                    "survey",
                    row.number,
                    f"nested group {row.get('name')!r} flattened into its section",
                )
            )
            return
        walk.section = self._new_section(row.get("name"), row.text("label"), row.number)

    def _add_question(self, row: Row, kind: str, argument: str, walk: _SurveyWalk) -> None:
        if walk.section is None:
            walk.section = self._new_section(f"section_{len(self.sections) + 1}", None, row.number)
        question = self._question(
            row, kind, argument, [c for c in walk.group_conditions if c is not None])
        if question is None:
            return
        if question.get("overall"):
            walk.overall_rows.append(row.number)
        position = (len(self.sections) - 1, len(walk.section["questions"]))
        self.question_rows[position] = row.number
        walk.section["questions"].append(question)

    def _survey_sheet_problems(self, overall_rows: list[int]) -> None:
        """What the survey sheet as a whole lacks: dimension ids, an overall item."""
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

    def _note(self, row: Row, section: dict[str, Any] | None) -> None:
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
        row: Row,
        kind: str,
        list_name: str,
        group_conditions: list[tuple[int, dict[str, Any] | None]],
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
            if row.get("choice_filter"):
                self.problems.append(Problem("survey", row.number, (
                    f"choice_filter {row.get('choice_filter')!r} (a cascading select) is not "
                    f"supported: every choice of {list_name!r} is offered")))
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
        condition = self._effective_condition(row, group_conditions)
        if condition is not None:
            question["show_if"] = condition
        return question

    def _effective_condition(
        self, row: Row, group_conditions: list[tuple[int, dict[str, Any] | None]]
    ) -> dict[str, Any] | None:
        """The question's show_if: its own 'relevant' or its group's; one condition only,
        so any other one that applies is reported, never dropped silently."""
        if row.get("relevant"):
            if group_conditions:
                self.problems.append(Problem("survey", row.number, (
                    "both the group and the question have 'relevant': only the question's "
                    "condition is kept")))
            return self._condition(row.get("relevant"), row.number)
        if len(group_conditions) > 1:
            self.problems.append(Problem("survey", row.number, (
                "nested groups each have 'relevant': only the innermost group's condition "
                "is kept")))
        return group_conditions[-1][1] if group_conditions else None

    def _is_rating(self, row: Row, choice_list: ChoiceList) -> bool:
        extra = set(choice_list.codes) - set(RATING_CODES)
        if not set(RATING_CODES) <= set(choice_list.codes) or len(extra) > 1:
            return False
        if self.has_dimension_column and not row.get("dimension"):
            return False
        if not self._direction_settled(row, choice_list):
            return False
        labels = dict(zip(choice_list.codes, choice_list.labels, strict=True))
        na_code = next(iter(extra), None)
        codes = {code: labels[code] or {"zh_CN": code} for code in RATING_CODES}
        if self.scale is None:
            self.scale = default_scale()
            self.scale["codes"] = codes
            if choice_list.direction:
                self.scale["direction"] = scale_direction.FORWARD
            if na_code is not None:
                self.scale["na_code"] = na_code
                self.scale["na_label"] = labels[na_code] or DEFAULT_NA_LABEL
            self.scale_list = choice_list.name
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
        elif codes != self.scale["codes"]:
            # One scale serves every rating item: taking this list as a rating would show
            # the first list's labels in place of its own.
            self.problems.append(Problem("survey", row.number, (
                f"list {choice_list.name!r} has the codes 5..1 but other labels than the "
                f"scale (list {self.scale_list!r}): kept as a single choice")))
            return False
        return True

    def _direction_settled(self, row: Row, choice_list: ChoiceList) -> bool:
        """Whether the list's direction is proven (a declared reversed list is recoded)."""
        already = choice_list.settled
        refusal = settle_list_direction(choice_list, row.get("scale_direction"))
        if refusal and already is None:
            self.refused = True
            self.problems.append(Problem("choices", choice_list.row, refusal))
        return bool(choice_list.settled)

    def _rating_fields(self, row: Row, question: dict[str, Any], choice_list: ChoiceList) -> None:
        if row.get("dimension"):
            question["dimension"] = self._identifier(row.get("dimension"), "survey", row.number)
        if row.get("overall").lower() in _TRUE:
            question["overall"] = True
        question["allow_na"] = len(set(choice_list.codes) - set(RATING_CODES)) == 1

    def _required(self, row: Row) -> bool:
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

    def _constraint(self, row: Row, question: dict[str, Any]) -> None:
        constraint = row.get("constraint")
        if not constraint:
            return
        bounds = constraint_bounds(constraint, question["type"])
        if bounds is None:
            self.problems.append(
                Problem("survey", row.number, f"constraint {constraint!r} not converted")
            )
            return
        question.update(bounds)

    def _condition(self, expression: str, row: int) -> dict[str, Any] | None:
        parsed = relevant_codes(expression)
        if parsed is None:
            self.problems.append(
                Problem(
                    "survey",
                    row,
                    f"relevant {expression!r} is too complex to convert: "
                    "the question is shown to everyone",
                )
            )
            return None
        name, values = parsed
        qid = self.question_ids.get(name, name)
        renamed = self.question_lists[qid].renamed if qid in self.question_lists else {}
        codes = [renamed.get(value, value) for value in values]
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


# Spellings pyxform still accepts: "select one from LIST", "select all that apply LIST".
_LEGACY_SELECT = re.compile(
    r"select[ _](?P<kind>one|multiple|all[ _]that[ _]apply)(?:[ _]from)?\s+(?P<list>\S+)$",
    re.IGNORECASE)


def _modern_type(written: str) -> str:
    """The type cell with spaces collapsed and legacy select spellings in today's form.

    >>> _modern_type("select one from  yesno"), _modern_type("select all that apply ch")
    ('select_one yesno', 'select_multiple ch')
    """
    text = " ".join(written.split())
    match = _LEGACY_SELECT.match(text)
    if match is None:
        return text
    kind = "select_one" if match["kind"].lower() == "one" else "select_multiple"
    return f"{kind} {match['list']}"


def _join_texts(texts: list[dict[str, str]]) -> dict[str, str]:
    joined = {"zh_CN": "\n".join(t["zh_CN"] for t in texts if t.get("zh_CN"))}
    english = [t["en"] for t in texts if t.get("en")]
    if english:
        joined["en"] = "\n".join(english)
    return joined
