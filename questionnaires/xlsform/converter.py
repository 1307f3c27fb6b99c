"""Mapping pyxform's JSON form of an XLSForm onto our questionnaire definition data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from questionnaires.xlsform.columns import check_columns, metadata_type, our_type
from questionnaires.xlsform.expressions import constraint_bounds
from questionnaires.xlsform.reading import ReadForm
from questionnaires.xlsform.relevance import Condition, Target, combined_show_if
from questionnaires.xlsform.scale import RatingScales, default_scale
from questionnaires.xlsform.sheets import (
    ChoiceList,
    Problem,
    choice_list,
    dimension_labels,
    localized,
    row_of,
)

_TRUE = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE = frozenset({"", "no", "false", "false()", "0", "n"})
# The keys of pyxform's form that the conversion reads, or that change nothing in it.
_FORM_KEYS = frozenset({
    "type", "name", "title", "id_string", "sms_keyword", "default_language", "children",
    "choices", "version", "allow_choice_duplicates", "entity_version",
})
_PATH_IN_SURVEY = re.compile(r"sections\[(?P<s>\d+)\](?:\.questions\[(?P<q>\d+)\])?")


@dataclass
class _SurveyWalk:
    """Where the walk down the form is: the open section, the group depth, and the
    ``relevant`` of every open group (outermost first)."""

    section: dict[str, Any] | None = None
    group_depth: int = 0
    conditions: list[Condition] = field(default_factory=list)
    overall_rows: list[int | None] = field(default_factory=list)
    # The last question converted: its XLSForm name, our question, its row.
    last: tuple[str, dict[str, Any], int | None] | None = None


class Converter:
    """Builds definition data from pyxform's JSON, collecting a Problem for what it cannot
    convert (``refuses``) or converts with a change worth knowing."""

    def __init__(self, fallback_id: str) -> None:
        self.fallback_id = fallback_id
        self.problems: list[Problem] = []
        self.sections: list[dict[str, Any]] = []
        self.section_rows: list[int | None] = []
        self.question_rows: dict[tuple[int, int], int | None] = {}
        self.targets: dict[str, Target] = {}  # XLSForm name -> what a relevant may name
        self.question_ids: set[str] = set()
        self.lists: dict[str, ChoiceList] = {}
        self.intro: list[dict[str, str]] = []
        self.form_title: dict[str, str] | None = None
        self.other_languages: set[str] = set()
        self.scales = RatingScales(self.problems)
        self.form_choices: dict[str, list[dict[str, Any]]] = {}

    @property
    def refused(self) -> bool:
        return any(problem.refuses for problem in self.problems)

    # -- the whole form ------------------------------------------------------------------

    def convert(self, form: ReadForm) -> dict[str, Any]:
        parsed = form.json
        form_id = str(parsed.get("id_string") or self.fallback_id)
        title = localized(parsed.get("title"), self.other_languages)
        if parsed.get("title") == parsed.get("id_string"):
            title = None
            self.problems.append(
                Problem("settings", None, "no form_title: the form id is used as the title"))
        self.form_title = title
        self.form_choices = parsed.get("choices") or {}
        self.scales.has_dimension_column = _any_has(parsed, "dimension")
        self._children(parsed.get("children", []), _SurveyWalk(), top=True)
        self._settings_notes(parsed)
        if self.other_languages:
            self.problems.append(Problem("", None, (
                f"languages {', '.join(sorted(self.other_languages))} not converted "
                "(only Chinese and English are)")))
        data: dict[str, Any] = {
            "id": self._identifier(form_id, "settings", None, "form_id"),
            "title": title or {"zh_CN": form_id},
        }
        if self.intro:
            data["intro"] = _join_texts(self.intro)
        data["scale"] = self.scales.scale or default_scale()
        dimension_rows: dict[str, int] = {}
        labels = dimension_labels(form.dimensions, dimension_rows)
        data["dimensions"] = self._dimensions(labels, dimension_rows)
        data["sections"] = self.sections
        # A problem found twice (pyxform may keep a column in two places) is told once.
        self.problems[:] = list(dict.fromkeys(self.problems))
        return data

    def locate(self, path: str, message: str) -> Problem:
        """A validation issue as a Problem on the survey row it came from, where known."""
        match = _PATH_IN_SURVEY.match(path)
        row = None
        if match and match["q"] is not None:
            row = self.question_rows.get((int(match["s"]), int(match["q"])))
        elif match and int(match["s"]) < len(self.section_rows):
            row = self.section_rows[int(match["s"])]
        text = f"{path}: {message}" if path else message
        return Problem("survey" if row is not None else "", row, text, refuses=True,
                       invalid=True)

    def rows_by_id(self) -> dict[str, int | None]:
        """Our question ids and the survey rows they come from."""
        return {self.sections[s]["questions"][q]["id"]: row
                for (s, q), row in self.question_rows.items()}

    def _dimensions(self, labels: dict[str, dict[str, str] | None],
                    rows: dict[str, int]) -> list[dict[str, Any]]:
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
                self.problems.append(Problem("dimensions", rows.get(dimension), (
                    f"dimension {dimension!r} has no label: its id is used")))
                label = {"zh_CN": dimension}
            dimensions.append({"id": dimension, "label": label})
        return dimensions

    # -- the survey ----------------------------------------------------------------------

    def _children(self, children: list[dict[str, Any]], walk: _SurveyWalk, top: bool) -> None:
        for element in children:
            if row_of(element) is None:
                self._generated(element, walk)
            else:
                self._element(element, walk)
        if top:
            self._survey_sheet_problems(walk.overall_rows)

    def _element(self, element: dict[str, Any], walk: _SurveyWalk) -> None:
        kind = str(element.get("type", ""))
        row, name = row_of(element), element.get("name")
        ours = our_type(kind)
        if kind == "group":
            self._group(element, walk)
        elif kind in {"repeat", "loop"}:
            self.problems.append(Problem("survey", row, (
                f"{kind} {name!r} is not supported (its questions would be asked once per "
                "repetition)"), "type", refuses=True))
        elif ours == "note":
            self._note(element, walk.section)
        elif ours is not None:
            self._add_question(element, walk, ours)
        elif metadata_type(kind):
            self.problems.append(Problem("survey", row, (
                f"metadata field {kind!r} is not asked and not kept"), "type"))
        else:
            self.problems.append(Problem("survey", row, (
                f"question type {kind!r} ({name!r}) is not supported"), "type", refuses=True))

    def _group(self, element: dict[str, Any], walk: _SurveyWalk) -> None:
        """A top-level group opens a section; nested groups are flattened into it, their
        ``relevant`` combined with the questions'."""
        row, name = row_of(element), str(element.get("name", ""))
        check_columns(element, f"group {name!r}", self.problems)
        relevant = (element.get("bind") or {}).get("relevant")
        walk.group_depth += 1
        if relevant:
            walk.conditions.append(Condition(row, str(relevant)))
        if walk.group_depth > 1:
            self.problems.append(Problem("survey", row, (
                f"nested group {name!r} flattened into its section")))
        else:
            walk.section = self._new_section(name, localized(element.get("label")), row)
        self._children(element.get("children", []), walk, top=False)
        if relevant:
            walk.conditions.pop()
        walk.group_depth -= 1
        if walk.group_depth == 0:
            walk.section = None

    def _add_question(self, element: dict[str, Any], walk: _SurveyWalk, kind: str) -> None:
        row = row_of(element)
        if walk.section is None:
            walk.section = self._new_section(f"section_{len(self.sections) + 1}", None, row)
        question = self._question(element, kind, walk.conditions)
        if question is None:
            return
        if question.get("overall"):
            walk.overall_rows.append(row)
        self._append(question, row, walk)
        walk.last = (str(element.get("name", "")), question, row)

    def _append(self, question: dict[str, Any], row: int | None, walk: _SurveyWalk) -> None:
        section = walk.section if walk.section is not None else self.sections[-1]
        position = (len(self.sections) - 1, len(section["questions"]))
        self.question_rows[position] = row
        section["questions"].append(question)

    def _generated(self, element: dict[str, Any], walk: _SurveyWalk) -> None:
        """An element pyxform adds itself (no survey row of its own): its meta group
        (instanceID) is left out; the text question of ``select_one LIST or_other``, asked
        when "other" is chosen, is converted; anything else refuses the conversion."""
        name = str(element.get("name", ""))
        if name == "meta" and (element.get("control") or {}).get("bodyless"):
            self._meta(element)
            return
        asked_name, asked, row = walk.last or ("", {}, None)
        if name == f"{asked_name}_other" and element.get("type") == "text" and "options" in asked:
            code = asked["options"][-1]["code"]
            self.problems.append(Problem("survey", row, (
                f"'or specify other' adds the text question {asked['id']}_other, asked when "
                f"{asked['id']!r} is {code!r} (other)"), "type"))
            condition = ({"question": asked["id"], "equals": code} if asked["type"] == "single"
                         else {"question": asked["id"], "in": [code]})
            other_id = self._unique(f"{asked['id']}_other", self.question_ids, row)
            self.question_ids.add(other_id)
            self._append({"id": other_id, "type": "text",
                          "text": {"zh_CN": "请注明其他", "en": "Specify other."},
                          "required": False, "show_if": condition}, row, walk)
            return
        self.problems.append(Problem("", None, (
            f"the {element.get('type')} {name!r} that pyxform adds for a column of the form "
            "is not supported"), refuses=True))

    def _meta(self, group: dict[str, Any]) -> None:
        """pyxform's meta group: its instanceID is the client's, and left out; an entity
        declaration (the ``entities`` sheet) refuses the conversion."""
        for child in group.get("children", []):
            if child.get("name") == "instanceID":
                continue
            if child.get("name") == "entity":
                self.problems.append(Problem("entities", None, (
                    "the entities sheet (ODK Entities: each submission creates or updates a "
                    "dataset record) is not supported"), refuses=True))
            else:
                self.problems.append(Problem("", None, (
                    f"the meta field {child.get('name')!r} that pyxform adds is not "
                    "supported"), refuses=True))

    def _settings_notes(self, parsed: dict[str, Any]) -> None:
        """Settings that change nothing we convert are noted (encryption, submission URL,
        instance name, style…)."""
        for key, value in parsed.items():
            if key not in _FORM_KEYS:
                self.problems.append(Problem("settings", None, (
                    f"setting {key} {str(value)[:60]!r} is not used"), key))

    def _survey_sheet_problems(self, overall_rows: list[int | None]) -> None:
        """What the survey sheet as a whole lacks: dimension ids, an overall item."""
        if self.scales.scale is not None and not self.scales.has_dimension_column:
            self.problems.append(Problem("survey", 1, (
                "no 'dimension' column: every rating item needs a dimension id (add the "
                "column, and a 'dimensions' sheet for labels)"), "dimension", refuses=True,
                invalid=True))
        if not overall_rows:
            self.problems.append(Problem("survey", 1, (
                "no overall item: add an 'overall' column and put 'yes' on the "
                "overall-satisfaction rating item"), "overall", refuses=True, invalid=True))

    def _new_section(self, name: str, title: dict[str, str] | None,
                     row: int | None) -> dict[str, Any]:
        section: dict[str, Any] = {
            "id": self._unique(self._identifier(
                name or f"section_{len(self.sections) + 1}", "survey", row),
                {section["id"] for section in self.sections}, row),
            "title": dict(title or self.form_title
                          or {"zh_CN": name or f"第{len(self.sections) + 1}部分"}),
            "questions": [],
        }
        self.sections.append(section)
        self.section_rows.append(row)
        return section

    def _note(self, element: dict[str, Any], section: dict[str, Any] | None) -> None:
        row = row_of(element)
        check_columns(element, f"note {element.get('name')!r}", self.problems)
        if (element.get("bind") or {}).get("relevant"):
            self.problems.append(Problem("survey", row, (
                "the note's relevant is not kept: its text is always shown"), "relevant"))
        text = localized(element.get("label"), self.other_languages)
        if text is None:
            return
        if section is None:
            if self.sections:
                self.problems.append(
                    Problem("survey", row, "note between groups moved to the introduction"))
            self.intro.append(text)
            return
        if section["questions"]:
            self.problems.append(
                Problem("survey", row, "note after questions moved to the section description"))
        existing = section.get("description")
        section["description"] = _join_texts([existing, text] if existing else [text])

    # -- one question --------------------------------------------------------------------

    def _question(self, element: dict[str, Any], kind: str,
                  conditions: list[Condition]) -> dict[str, Any] | None:
        row, name = row_of(element), str(element.get("name", ""))
        check_columns(element, f"question {name!r}", self.problems)
        qid = self._unique(self._identifier(name, "survey", row), self.question_ids, row)
        self.question_ids.add(qid)
        question: dict[str, Any] = {"id": qid, "type": kind}
        choices = None
        if question["type"] in {"single", "multiple"}:
            choices = self._choices(element)
            if choices is None:
                return None
            if question["type"] == "single" and self.scales.is_rating(element, choices):
                question["type"] = "rating"
            else:
                question["options"] = [
                    {"code": code, "label": label} if label else {"code": code}
                    for code, label in zip(choices.codes, choices.labels, strict=True)]
        for column, key in (("label", "text"), ("hint", "help")):
            text = localized(element.get(column), self.other_languages)
            if text is not None:
                question[key] = text
        question["required"] = self._required(element)
        if question["type"] == "rating":
            question.update(self.scales.rating_fields(element, choices, self._identifier))
        self._constraint(element, question)
        own = (element.get("bind") or {}).get("relevant")
        show_if = combined_show_if(
            [*conditions, *([Condition(row, str(own))] if own else [])],
            self.targets.get, self.problems)
        if show_if is not None:
            question["show_if"] = show_if
        self.targets[name] = Target(qid, choices, question["type"] == "multiple")
        return question

    def _choices(self, element: dict[str, Any]) -> ChoiceList | None:
        """The question's choice list (read once per list), or None, refused, when pyxform
        gives it no choices of its own (from a file, a previous answer's, external)."""
        list_name = str(element.get("list_name") or element.get("itemset") or "")
        choices = element.get("choices") or self.form_choices.get(list_name)
        # A list with the choice 'or specify other' adds is another list than without it.
        key = f"{list_name} {sum(row_of(choice) is None for choice in choices or [])}"
        if key in self.lists:
            return self.lists[key]
        if not choices:
            self.problems.append(Problem("survey", row_of(element), (
                f"question {element.get('name')!r}: the choices {list_name!r} are not in the "
                "choices sheet (a list from a file, from earlier answers or external) and "
                "are not supported"), "type", refuses=True))
            return None
        for choice in choices:
            if choice.get("media"):
                check_columns(choice, f"choice {choice.get('name')!r} of {list_name!r}",
                              self.problems, frozenset(choice) - {"media"}, sheet="choices")
        self.lists[key] = choice_list(list_name, choices, self.problems,
                                      self.other_languages)
        return self.lists[key]

    def _required(self, element: dict[str, Any]) -> bool:
        value = str((element.get("bind") or {}).get("required", ""))
        if value.strip().lower() in _TRUE:
            return True
        if value.strip().lower() not in _FALSE:
            self.problems.append(Problem("survey", row_of(element), (
                f"required {value!r} is not supported (only yes or no)"), "required",
                refuses=True))
        return False

    def _constraint(self, element: dict[str, Any], question: dict[str, Any]) -> None:
        constraint = (element.get("bind") or {}).get("constraint")
        if not constraint:
            return
        bounds = constraint_bounds(str(constraint), question["type"])
        if bounds is None:
            self.problems.append(Problem("survey", row_of(element), (
                f"constraint {constraint!r} is not supported (only bounds on an integer and "
                "string-length(.) on a text)"), "constraint", refuses=True))
            return
        question.update(bounds)

    def _unique(self, identifier: str, taken: set[str], row: int | None) -> str:
        """``identifier``, or with ``_2``, ``_3``… when taken (pyxform allows a name again
        in another group; our ids are unique in the questionnaire)."""
        if identifier not in taken:
            return identifier
        number = 2
        while f"{identifier}_{number}" in taken:
            number += 1
        self.problems.append(Problem("survey", row, (
            f"{identifier!r} is used above (in another group): renamed to "
            f"'{identifier}_{number}'"), "name"))
        return f"{identifier}_{number}"

    def _identifier(self, name: str, sheet: str, row: int | None,
                    column: str = "name") -> str:
        identifier = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
        if not identifier[:1].isalpha():
            identifier = f"q_{identifier}".rstrip("_")
        identifier = identifier[:64]
        if identifier != name:
            self.problems.append(Problem(sheet, row, (
                f"name {name!r} renamed to {identifier!r} (ids are snake_case)"), column))
        return identifier


def _any_has(element: dict[str, Any], key: str) -> bool:
    return any(key in child or _any_has(child, key) for child in element.get("children", []))


def _join_texts(texts: list[dict[str, str]]) -> dict[str, str]:
    joined = {"zh_CN": "\n".join(t["zh_CN"] for t in texts if t.get("zh_CN"))}
    english = [t["en"] for t in texts if t.get("en")]
    if english:
        joined["en"] = "\n".join(english)
    return joined
