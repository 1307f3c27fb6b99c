"""The parts of a questionnaire definition: bilingual text, options, the rating scale, skip
logic, the question types and sections (the document itself is :mod:`questionnaires.model`).

Each part checks itself (pydantic's structural pass); checks across parts are the model's.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

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


def require_items(value: tuple[object, ...]) -> tuple[object, ...]:
    # Used instead of Field(min_length=1), which also fires when one item is invalid.
    if not value:
        raise ValueError("must not be empty")
    return value


class DefinitionPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(DefinitionPart):
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


class Option(DefinitionPart):
    """One answer option of a choice question: the code stored and the label shown."""

    code: OptionCode
    label: LocalizedText


class Dimension(DefinitionPart):
    """An evaluation dimension (e.g. 补偿标准) that rating items are grouped under."""

    id: Identifier
    label: LocalizedText


class Scale(DefinitionPart):
    """The 5-point satisfaction scale shared by every rating item.

    ``codes`` are shown in the order 5, 4, 3, 2, 1. The "don't know / not applicable" answer
    has its own code (``na_code``, default ``"9"``), is never a point on the scale and has no
    score. The scores of the codes are fixed (:data:`FIXED_SCORES`), not part of the format.
    """

    codes: dict[OptionCode, LocalizedText]
    na_code: OptionCode = "9"
    na_label: LocalizedText
    # Declared in a file whose labels do not prove the direction themselves
    # (questionnaires.scale_direction). A file declaring "reversed" is recoded by the loader,
    # so a definition held here is always forward.
    direction: Literal["forward"] | None = None
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
            reversed_scores = {code: 120 - score for code, score in FIXED_SCORES.items()}
            hint = ("; a scale whose code 1 is the satisfied end is declared with "
                    "'direction: reversed' and recoded" if value == reversed_scores else "")
            raise ValueError(
                f"scores are no longer part of the format and cannot be changed: the statistics "
                f"score the codes {fixed} (满意度得分 = 20 × mean); remove 'scores'{hint}"
            )
        return None

    def options(self, *, allow_na: bool = True) -> tuple[Option, ...]:
        """The options to display: 5..1, then the "don't know" option if allowed."""
        shown = [Option(code=code, label=label) for code, label in self.codes.items()]
        if allow_na:
            shown.append(Option(code=self.na_code, label=self.na_label))
        return tuple(shown)


class ShowIf(DefinitionPart):
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


class _QuestionBase(DefinitionPart):
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


class Section(DefinitionPart):
    """A titled group of questions (one page of the web form)."""

    id: Identifier
    title: LocalizedText
    description: LocalizedText | None = None
    questions: tuple[Question, ...]

    _not_empty = field_validator("questions")(require_items)
