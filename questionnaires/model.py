"""Typed model of a questionnaire definition and its consistency rules.

Validation runs in two passes. The first is pydantic's structural pass (types, required
fields, per-object rules such as duplicate option codes within one question); all of its
errors are reported together. The second pass checks references across the document
(question ids, skip logic, dimensions, the overall item) and also reports everything it finds;
it runs once the structure is valid, because it needs the typed objects to look at. The parts
of the document (text, options, scale, question types, sections) are
:mod:`questionnaires.elements`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from questionnaires.elements import (
    CHOICE_TYPES,
    QUESTION_TYPES,
    RATING_CODES,
    DefinitionPart,
    Dimension,
    Identifier,
    LocalizedText,
    MultipleChoiceQuestion,
    Option,
    Question,
    RatingQuestion,
    Scale,
    Section,
    ShowIf,
    SingleChoiceQuestion,
    require_items,
)
from questionnaires.errors import Issue, QuestionnaireError, format_path

# RATING_CODES stays importable from here for callers outside the package.
__all__ = [
    "RATING_CODES",
    "Loc",
    "Questionnaire",
    "cross_reference_problems",
    "issues_from_validation_error",
]

_DEFER_CROSS_CHECKS = "questionnaires.defer_cross_checks"

Loc = tuple[int | str, ...]


class Questionnaire(DefinitionPart):
    """A validated questionnaire definition.

    Build one with :func:`questionnaires.load_file`, :func:`questionnaires.load_text`,
    :func:`questionnaires.load_builtin` or :meth:`from_dict`; they report every problem in a
    :class:`~questionnaires.errors.QuestionnaireError`.
    """

    id: Identifier
    title: LocalizedText
    intro: LocalizedText | None = None
    scale: Scale
    dimensions: tuple[Dimension, ...]
    sections: tuple[Section, ...]

    _not_empty = field_validator("dimensions", "sections")(require_items)

    _questions_by_id: dict[str, Question] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        index = self._questions_by_id
        for question in self.questions():
            index.setdefault(question.id, question)

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Questionnaire:
        # from_dict() runs these checks itself to report each with its own path.
        if info.context and info.context.get(_DEFER_CROSS_CHECKS):
            return self
        problems = cross_reference_problems(self)
        if problems:
            raise ValueError("; ".join(f"{format_path(loc)}: {msg}" for loc, msg in problems))
        return self

    # -- construction and storage -------------------------------------------------------

    @classmethod
    def from_dict(cls, data: object, *, source: str = "<dict>") -> Questionnaire:
        """Validate plain data (parsed YAML or stored JSON); raise QuestionnaireError."""
        if not isinstance(data, Mapping):
            kind = "nothing" if data is None else type(data).__name__
            raise QuestionnaireError(
                [Issue(source, "", f"expected a mapping at the top level, got {kind}")]
            )
        try:
            questionnaire = cls.model_validate(data, context={_DEFER_CROSS_CHECKS: True})
        except ValidationError as exc:
            raise QuestionnaireError(issues_from_validation_error(exc, source)) from None
        problems = cross_reference_problems(questionnaire)
        if problems:
            raise QuestionnaireError(Issue(source, format_path(loc), msg) for loc, msg in problems)
        return questionnaire

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible data that :meth:`from_dict` turns back into an equal questionnaire."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the validated definition.

        Formatting, key order and spelled-out defaults in the source do not change it; any
        change of wording, code, option or rule does.
        """
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    # -- navigation ---------------------------------------------------------------------

    def questions(self) -> Iterator[Question]:
        """All questions in order, across sections."""
        for section in self.sections:
            yield from section.questions

    def question(self, qid: str) -> Question:
        """The question with id ``qid``; KeyError if there is none."""
        try:
            return self._questions_by_id[qid]
        except KeyError:
            raise KeyError(f"no question {qid!r} in questionnaire {self.id!r}") from None

    def rating_items(self) -> list[RatingQuestion]:
        """The rating questions in order, the overall item included."""
        return [q for q in self.questions() if isinstance(q, RatingQuestion)]

    def overall_item(self) -> RatingQuestion:
        """The rating item marked ``overall: true`` (the overall-satisfaction criterion)."""
        return next(q for q in self.rating_items() if q.overall)

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; KeyError if there is none."""
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(f"no dimension {dimension_id!r} in questionnaire {self.id!r}")

    def options(self, qid: str) -> tuple[Option, ...]:
        """The options of a rating or choice question (empty for integer and text)."""
        question = self.question(qid)
        if isinstance(question, RatingQuestion):
            return self.scale.options(allow_na=question.allow_na)
        if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            return question.options
        return ()


def cross_reference_problems(questionnaire: Questionnaire) -> list[tuple[Loc, str]]:
    """Check references across the document; return (location, message) for each problem."""
    located = [
        (("sections", s, "questions", q), question)
        for s, section in enumerate(questionnaire.sections)
        for q, question in enumerate(section.questions)
    ]
    problems: list[tuple[Loc, str]] = []
    problems += _duplicate_ids(
        [(("dimensions", i), d.id) for i, d in enumerate(questionnaire.dimensions)],
        "dimension id",
    )
    problems += _duplicate_ids(
        [(("sections", i), s.id) for i, s in enumerate(questionnaire.sections)],
        "section id",
    )
    problems += _duplicate_ids([(loc, question.id) for loc, question in located], "question id")
    declared = [d.id for d in questionnaire.dimensions]
    earlier: dict[str, Question] = {}
    all_ids = {question.id for _, question in located}
    for loc, question in located:
        if isinstance(question, RatingQuestion):
            problems += _rating_item_problems(loc, question, declared)
        if question.show_if is not None:
            problems += _show_if_problems(questionnaire, loc, question.show_if, earlier, all_ids)
        earlier.setdefault(question.id, question)
    problems += _overall_item_problems(located)
    used = {q.dimension for _, q in located if isinstance(q, RatingQuestion)}
    problems += [
        (("dimensions", i, "id"), f"dimension {dimension.id!r} has no rating item")
        for i, dimension in enumerate(questionnaire.dimensions)
        if dimension.id not in used
    ]
    return problems


def _rating_item_problems(
    loc: Loc, question: RatingQuestion, declared: list[str]
) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    if question.dimension not in declared:
        problems.append(
            (
                (*loc, "dimension"),
                f"unknown dimension {question.dimension!r} (declared: {', '.join(declared)})",
            )
        )
    if question.overall and question.show_if is not None:
        problems.append(
            (
                (*loc, "show_if"),
                "the overall item must be shown to every "
                "respondent, so it cannot have show_if",
            )
        )
    return problems


def _overall_item_problems(located: list[tuple[Loc, Question]]) -> list[tuple[Loc, str]]:
    """Exactly one rating item is the overall-satisfaction criterion."""
    overall = [
        (loc, question.id)
        for loc, question in located
        if isinstance(question, RatingQuestion) and question.overall
    ]
    if not overall:
        return [((), "no rating item is marked 'overall: true'; exactly one is required")]
    return [
        (
            (*loc, "overall"),
            f"more than one overall item: {overall[0][1]!r} is "
            f"already marked 'overall: true', so {qid!r} cannot be",
        )
        for loc, qid in overall[1:]
    ]


def _duplicate_ids(entries: list[tuple[Loc, str]], what: str) -> list[tuple[Loc, str]]:
    """Report each (object location, id) whose id an earlier entry already has."""
    first_seen: dict[str, Loc] = {}
    problems: list[tuple[Loc, str]] = []
    for loc, value in entries:
        if value in first_seen:
            first = format_path(first_seen[value])
            problems.append(((*loc, "id"), f"duplicate {what} {value!r} (first used at {first})"))
        else:
            first_seen[value] = loc
    return problems


def _show_if_problems(
    questionnaire: Questionnaire,
    loc: Loc,
    show_if: ShowIf,
    earlier: Mapping[str, Question],
    all_ids: set[str],
) -> list[tuple[Loc, str]]:
    here = (*loc, "show_if")
    target_id = show_if.question
    target = earlier.get(target_id)
    if target is None:
        if target_id in all_ids:
            reason = f"show_if refers to question {target_id!r}, which does not come before it"
        else:
            reason = f"show_if refers to unknown question {target_id!r}"
        return [((*here, "question"), reason)]
    if target.type not in CHOICE_TYPES:
        return [
            (
                (*here, "question"),
                f"show_if can only refer to a rating or choice question; "
                f"{target_id!r} is a {target.type} question",
            )
        ]
    valid = [option.code for option in questionnaire.options(target_id)]
    if show_if.equals is not None:
        codes: list[tuple[Loc, str]] = [((*here, "equals"), show_if.equals)]
    else:
        codes = [((*here, "in", i), code) for i, code in enumerate(show_if.in_ or ())]
    return [
        (
            code_loc,
            f"show_if code {code!r} is not an option of question {target_id!r} "
            f"(options: {', '.join(valid)})",
        )
        for code_loc, code in codes
        if code not in valid
    ]


def issues_from_validation_error(exc: ValidationError, source: str) -> list[Issue]:
    """Translate pydantic's errors into Issues with readable paths and reasons."""
    issues: list[Issue] = []
    for error in exc.errors(include_url=False):
        loc = _strip_union_tags(tuple(error["loc"]))
        kind = error["type"]
        context = error.get("ctx") or {}
        if kind == "union_tag_invalid":
            loc = (*loc, "type")
            message = (
                f"unknown question type {context.get('tag')!r} "
                f"(expected one of: {', '.join(QUESTION_TYPES)})"
            )
        elif kind == "union_tag_not_found":
            loc = (*loc, "type")
            message = "missing required field 'type'"
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}" if loc else "missing required field"
        elif kind == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}" if loc else "unknown field"
        elif kind == "model_type" and context.get("class_name") == "LocalizedText":
            message = "expected a mapping with zh_CN text (and optionally en)"
        elif kind == "model_type":
            message = "expected a mapping"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
            message = f"invalid key: {message}"
        issues.append(Issue(source, format_path(loc), message))
    return issues


def _strip_union_tags(loc: Loc) -> Loc:
    # pydantic puts the discriminator tag into the location of errors inside a tagged union:
    # ("sections", 0, "questions", 3, "rating", "dimension"). Users never write that tag.
    kept: list[int | str] = []
    for i, element in enumerate(loc):
        if (
            element in QUESTION_TYPES
            and i >= 2
            and isinstance(loc[i - 1], int)
            and loc[i - 2] == "questions"
        ):
            continue
        kept.append(element)
    return tuple(kept)
