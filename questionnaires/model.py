"""Typed model of a questionnaire definition and its consistency rules.

Validation runs in two passes. The first is pydantic's structural pass (types, required
fields, per-object rules such as duplicate option codes within one question); all of its
errors are reported together. The second pass checks references across the document
(question ids, skip logic, dimensions, the overall item) and also reports everything it finds;
it runs once the structure is valid, because it needs the typed objects to look at.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from questionnaires.errors import Issue, QuestionnaireError, format_path

#: The five codes of the satisfaction scale, best first (METHODS.md section 1).
RATING_CODES: tuple[str, ...] = ("5", "4", "3", "2", "1")

#: The score of each code, fixed by the method (METHODS.md section 2: 满意度得分 = 20 × mean,
#: which the statistics' score-index relation assumes), so no questionnaire can change it.
FIXED_SCORES: dict[str, int] = {"5": 100, "4": 80, "3": 60, "2": 40, "1": 20}

QUESTION_TYPES: tuple[str, ...] = ("rating", "single", "multiple", "integer", "text")
#: Question types whose answers are option codes and can therefore drive skip logic.
CHOICE_TYPES: frozenset[str] = frozenset({"rating", "single", "multiple"})

_CODE = re.compile(r"0|[1-9][0-9]{0,3}")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DEFER_CROSS_CHECKS = "questionnaires.defer_cross_checks"

Loc = tuple[int | str, ...]


def _int_to_str(value: object) -> object:
    # YAML reads `5:` and `code: 1` as integers; codes are stored as strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(f"option code {value!r} must be 1 to 4 digits without a leading zero")
    return value


def _check_identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a snake_case identifier "
            "(lowercase letters, digits and underscores, starting with a letter, at most 64)"
        )
    return value


OptionCode = Annotated[str, BeforeValidator(_int_to_str), AfterValidator(_check_code)]
Identifier = Annotated[str, AfterValidator(_check_identifier)]


def _require_items(value: tuple[object, ...]) -> tuple[object, ...]:
    # Used instead of Field(min_length=1), which also fires when one item is invalid.
    if not value:
        raise ValueError("must not be empty")
    return value


class _Definition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Definition):
    """Text in Simplified Chinese (required) with an optional English translation."""

    zh_CN: str
    en: str | None = None

    @field_validator("zh_CN")
    @classmethod
    def _zh_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("zh_CN text must not be empty")
        return value

    @field_validator("en")
    @classmethod
    def _en_blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    def for_locale(self, locale: str) -> str:
        """The English text for an ``en*`` locale when there is one, else the Chinese text."""
        if locale.lower().startswith("en") and self.en:
            return self.en
        return self.zh_CN


class Option(_Definition):
    """One answer option of a choice question: the code stored and the label shown."""

    code: OptionCode
    label: LocalizedText


class Dimension(_Definition):
    """An evaluation dimension (e.g. 补偿标准) that rating items are grouped under."""

    id: Identifier
    label: LocalizedText


class Scale(_Definition):
    """The 5-point satisfaction scale shared by every rating item.

    ``codes`` are shown in the order 5, 4, 3, 2, 1. The "don't know / not applicable" answer
    has its own code (``na_code``, default ``"9"``), is never a point on the scale and has no
    score. The scores of the codes are fixed (:data:`FIXED_SCORES`), not part of the format.
    """

    codes: dict[OptionCode, LocalizedText]
    na_code: OptionCode = "9"
    na_label: LocalizedText
    # Retired from the format: the score of each code is the method's (FIXED_SCORES), not the
    # questionnaire's. Files and stored versions written before spell that mapping out; it is
    # accepted and dropped (never in to_dict() or the content hash), anything else refused.
    retired_scores: dict[OptionCode, float] | None = Field(
        default=None, alias="scores", exclude=True, repr=False)

    @field_validator("codes")
    @classmethod
    def _five_point_codes(cls, value: dict[str, LocalizedText]) -> dict[str, LocalizedText]:
        if set(value) != set(RATING_CODES):
            raise ValueError(
                "the rating scale must use exactly the codes 5, 4, 3, 2, 1; "
                f"got {', '.join(value) or 'none'}"
            )
        return {code: value[code] for code in RATING_CODES}

    @field_validator("na_code")
    @classmethod
    def _na_code_off_scale(cls, value: str) -> str:
        if value in RATING_CODES:
            raise ValueError(f"na_code {value!r} must not be one of the scale codes 5..1")
        return value

    @field_validator("retired_scores")
    @classmethod
    def _only_the_fixed_scores(cls, value: dict[str, float] | None) -> None:
        if value is not None and value != FIXED_SCORES:
            fixed = ", ".join(f"{code} → {score}" for code, score in FIXED_SCORES.items())
            raise ValueError(
                f"scores are no longer part of the format and cannot be changed: the statistics "
                f"score the codes {fixed} (满意度得分 = 20 × mean); remove 'scores'"
            )
        return None

    def options(self, *, allow_na: bool = True) -> tuple[Option, ...]:
        """The options to display: 5..1, then the "don't know" option if allowed."""
        shown = [Option(code=code, label=label) for code, label in self.codes.items()]
        if allow_na:
            shown.append(Option(code=self.na_code, label=self.na_label))
        return tuple(shown)


class ShowIf(_Definition):
    """Skip logic: show the question only if an earlier answer matches.

    ``equals`` compares with a single code, ``in`` with a list of codes. For a multiple-choice
    question the condition holds if any selected code matches.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    question: Identifier
    equals: OptionCode | None = None
    in_: tuple[OptionCode, ...] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _exactly_one_condition(self) -> ShowIf:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("show_if needs exactly one of 'equals' or 'in'")
        return self

    def codes(self) -> tuple[str, ...]:
        """The codes that make the question visible."""
        return (self.equals,) if self.equals is not None else tuple(self.in_ or ())

    def matches(self, value: object) -> bool:
        """Whether a stored answer (a code, or a list of codes) satisfies the condition."""
        codes = self.codes()
        if isinstance(value, str):
            return value in codes
        if isinstance(value, list | tuple):
            return any(item in codes for item in value)
        return False


class _QuestionBase(_Definition):
    id: Identifier
    type: str
    text: LocalizedText
    help: LocalizedText | None = None
    required: bool = True
    show_if: ShowIf | None = None


class RatingQuestion(_QuestionBase):
    """A satisfaction item on the questionnaire's 5-point scale."""

    type: Literal["rating"] = "rating"
    dimension: Identifier
    overall: bool = False
    allow_na: bool = True


class _ChoiceQuestion(_QuestionBase):
    options: tuple[Option, ...]

    @field_validator("options")
    @classmethod
    def _unique_codes(cls, value: tuple[Option, ...]) -> tuple[Option, ...]:
        # Checked here rather than with Field(min_length=...): pydantic would also report the
        # length whenever one option is invalid, a confusing second message.
        if len(value) < 2:
            raise ValueError(f"a choice question needs at least 2 options, got {len(value)}")
        seen: set[str] = set()
        duplicates: list[str] = []
        for option in value:
            if option.code in seen and option.code not in duplicates:
                duplicates.append(option.code)
            seen.add(option.code)
        if duplicates:
            listed = ", ".join(repr(code) for code in duplicates)
            raise ValueError(f"duplicate option code {listed}")
        return value


class SingleChoiceQuestion(_ChoiceQuestion):
    """Choose exactly one option."""

    type: Literal["single"] = "single"


class MultipleChoiceQuestion(_ChoiceQuestion):
    """Choose any number of options."""

    type: Literal["multiple"] = "multiple"


class IntegerQuestion(_QuestionBase):
    """A whole number, optionally bounded by ``min`` and ``max`` (inclusive)."""

    type: Literal["integer"] = "integer"
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> IntegerQuestion:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class TextQuestion(_QuestionBase):
    """Free text of at most ``max_length`` characters."""

    type: Literal["text"] = "text"
    max_length: int = Field(default=500, ge=1, le=10_000)


Question = Annotated[
    RatingQuestion | SingleChoiceQuestion | MultipleChoiceQuestion | IntegerQuestion | TextQuestion,
    Field(discriminator="type"),
]


class Section(_Definition):
    """A titled group of questions (one page of the web form)."""

    id: Identifier
    title: LocalizedText
    description: LocalizedText | None = None
    questions: tuple[Question, ...]

    _not_empty = field_validator("questions")(_require_items)


class Questionnaire(_Definition):
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

    _not_empty = field_validator("dimensions", "sections")(_require_items)

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
    problems: list[tuple[Loc, str]] = []
    problems += _duplicate_ids(
        [(("dimensions", i), d.id) for i, d in enumerate(questionnaire.dimensions)],
        "dimension id",
    )
    problems += _duplicate_ids(
        [(("sections", i), s.id) for i, s in enumerate(questionnaire.sections)],
        "section id",
    )
    located = [
        (("sections", s, "questions", q), question)
        for s, section in enumerate(questionnaire.sections)
        for q, question in enumerate(section.questions)
    ]
    problems += _duplicate_ids([(loc, question.id) for loc, question in located], "question id")

    declared = [d.id for d in questionnaire.dimensions]
    used: set[str] = set()
    overall: list[tuple[Loc, str]] = []
    earlier: dict[str, Question] = {}
    all_ids = {question.id for _, question in located}
    for loc, question in located:
        if isinstance(question, RatingQuestion):
            used.add(question.dimension)
            if question.dimension not in declared:
                problems.append(
                    (
                        (*loc, "dimension"),
                        f"unknown dimension {question.dimension!r} "
                        f"(declared: {', '.join(declared)})",
                    )
                )
            if question.overall:
                overall.append((loc, question.id))
                if question.show_if is not None:
                    problems.append(
                        (
                            (*loc, "show_if"),
                            "the overall item must be shown to every "
                            "respondent, so it cannot have show_if",
                        )
                    )
        if question.show_if is not None:
            problems += _show_if_problems(questionnaire, loc, question.show_if, earlier, all_ids)
        earlier.setdefault(question.id, question)

    if not overall:
        problems.append(((), "no rating item is marked 'overall: true'; exactly one is required"))
    for loc, qid in overall[1:]:
        problems.append(
            (
                (*loc, "overall"),
                f"more than one overall item: {overall[0][1]!r} is "
                f"already marked 'overall: true', so {qid!r} cannot be",
            )
        )
    for i, dimension in enumerate(questionnaire.dimensions):
        if dimension.id not in used:
            problems.append(
                (("dimensions", i, "id"), f"dimension {dimension.id!r} has no rating item")
            )
    return problems


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
