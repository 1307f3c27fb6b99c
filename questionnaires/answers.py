"""Checking posted answers against a questionnaire, skip logic included.

The web form, the API and paper entry all call :func:`validate_answers`, so the same rules
hold everywhere: skip logic is enforced here, not in the browser, and an answer posted to a
hidden question is dropped, never stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from questionnaires.elements import (
    IntegerQuestion,
    MultipleChoiceQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    TextQuestion,
)
from questionnaires.model import Questionnaire

ErrorCode = Literal["required", "invalid_choice", "out_of_range", "not_an_integer", "too_long"]
#: A stored answer: rating and single-choice codes as str, multiple choice as a list of codes
#: (sorted numerically), integers as int, text as str.
AnswerValue = str | int | list[str]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_INTEGER_DIGITS = 18  # fits a signed 64-bit database column
# Bidirectional overrides and isolates can make stored comments display misleadingly.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class AnswerCheck:
    """The outcome of :func:`validate_answers`.

    ``values`` holds the cleaned answers of visible questions that passed; ``errors`` maps a
    question id to a machine-readable code for the app to translate. A question appears in at
    most one of the two.
    """

    values: dict[str, AnswerValue] = field(default_factory=dict)
    errors: dict[str, ErrorCode] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors


def validate_answers(
    questionnaire: Questionnaire,
    raw: Mapping[str, str] | Mapping[str, list[str]],
    *,
    partial: bool = False,
) -> AnswerCheck:
    """Check and clean posted answers.

    ``raw`` maps question ids to a string or a list of strings (a Werkzeug ``MultiDict``
    works too: its ``getlist`` is used). Questions are visited in order; a question hidden by
    skip logic is skipped even if an answer was posted. Unknown keys are ignored. With
    ``partial=True`` (save and resume) unanswered required questions are not errors.
    """
    values: dict[str, AnswerValue] = {}
    errors: dict[str, ErrorCode] = {}
    shown: set[str] = set()
    for question in questionnaire.questions():
        if not _is_shown(question, values, shown):
            continue
        shown.add(question.id)
        posted = _posted(raw, question.id)
        value, error = _clean(questionnaire, question, posted)
        if error is not None:
            errors[question.id] = error
        elif value is not None:
            values[question.id] = value
        elif question.required and not partial:
            errors[question.id] = "required"
    return AnswerCheck(values=values, errors=errors)


def visible_questions(
    questionnaire: Questionnaire, values: Mapping[str, AnswerValue]
) -> list[Question]:
    """The questions shown given the answers so far (cleaned values, e.g. as stored).

    A question is visible when it has no ``show_if``, or when the question it refers to is
    itself visible and its answer matches.
    """
    shown: set[str] = set()
    visible: list[Question] = []
    for question in questionnaire.questions():
        if _is_shown(question, values, shown):
            shown.add(question.id)
            visible.append(question)
    return visible


def clean_text(text: str) -> str:
    """Normalise free text: line breaks to ``\\n``, tabs to spaces, other control characters
    and bidirectional overrides removed, surrounding whitespace stripped.

    >>> clean_text(" a\\tb\\r\\nc\\x00\\u202e ")
    'a b\\nc'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = (
        char
        for char in text
        if char == "\n"
        or (unicodedata.category(char) not in {"Cc", "Cs"} and char not in _BIDI_CONTROLS)
    )
    return "".join(kept).strip()


def _is_shown(question: Question, values: Mapping[str, AnswerValue], shown: set[str]) -> bool:
    condition = question.show_if
    if condition is None:
        return True
    return condition.question in shown and condition.matches(values.get(condition.question))


def _posted(raw: Mapping[str, object], key: str) -> list[str]:
    getlist = getattr(raw, "getlist", None)
    items: Iterable[object]
    if callable(getlist):
        items = getlist(key)
    else:
        item = raw.get(key)
        if item is None:
            items = ()
        elif isinstance(item, list | tuple):
            items = item
        else:
            items = (item,)
    return [item if isinstance(item, str) else str(item) for item in items if item is not None]


def _clean(
    questionnaire: Questionnaire, question: Question, posted: list[str]
) -> tuple[AnswerValue | None, ErrorCode | None]:
    """(value, None) for a valid answer, (None, None) for no answer, (None, code) if invalid."""
    if isinstance(question, TextQuestion):
        return _clean_text(question, posted)
    entries = [entry.strip() for entry in posted]
    entries = [entry for entry in entries if entry]
    if not entries:
        return None, None
    if isinstance(question, MultipleChoiceQuestion):
        return _clean_multiple(question, entries)
    if len(set(entries)) > 1:
        invalid: ErrorCode = (
            "not_an_integer" if isinstance(question, IntegerQuestion) else "invalid_choice"
        )
        return None, invalid
    entry = entries[0]
    if isinstance(question, IntegerQuestion):
        return _clean_integer(question, entry)
    return _clean_choice(questionnaire, question, entry)


def _clean_choice(
    questionnaire: Questionnaire, question: Question, entry: str
) -> tuple[AnswerValue | None, ErrorCode | None]:
    """One code of a rating or single-choice question."""
    if isinstance(question, RatingQuestion):
        # The codes of scale.options(), without building its Option objects per answer.
        scale = questionnaire.scale
        valid = entry in scale.codes or (question.allow_na and entry == scale.na_code)
    elif isinstance(question, SingleChoiceQuestion):
        valid = any(option.code == entry for option in question.options)
    else:
        raise TypeError(f"unexpected question type {question.type!r}")
    return (entry, None) if valid else (None, "invalid_choice")


def _clean_multiple(
    question: MultipleChoiceQuestion, entries: list[str]
) -> tuple[AnswerValue | None, ErrorCode | None]:
    codes = {option.code for option in question.options}
    if any(entry not in codes for entry in entries):
        return None, "invalid_choice"
    return sorted(set(entries), key=int), None


def _clean_integer(
    question: IntegerQuestion, entry: str
) -> tuple[AnswerValue | None, ErrorCode | None]:
    # NFKC turns full-width digits typed with a Chinese input method into ASCII digits.
    entry = unicodedata.normalize("NFKC", entry).strip()
    if not _INTEGER.fullmatch(entry):
        return None, "not_an_integer"
    sign = "-" if entry.startswith("-") else ""
    digits = entry.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _MAX_INTEGER_DIGITS:
        return None, "out_of_range"
    number = int(sign + digits)
    if (question.min is not None and number < question.min) or (
        question.max is not None and number > question.max
    ):
        return None, "out_of_range"
    return number, None


def _clean_text(
    question: TextQuestion, posted: list[str]
) -> tuple[AnswerValue | None, ErrorCode | None]:
    # A text field is posted once; if a client sends it twice, the first non-blank one counts.
    texts = [cleaned for cleaned in (clean_text(entry) for entry in posted) if cleaned]
    if not texts:
        return None, None
    if len(texts[0]) > question.max_length:
        return None, "too_long"
    return texts[0], None
