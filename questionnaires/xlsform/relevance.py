"""A question's relevance in our terms: its own ``relevant`` and those of every group around
it, all required at once (as ODK does), become one ``show_if`` when they all name the same
earlier question; anything else is refused with the row and the expression."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questionnaires.xlsform.expressions import relevant_terms
from questionnaires.xlsform.sheets import ChoiceList, Problem


@dataclass(frozen=True)
class Condition:
    """One ``relevant`` cell: the row it is on and its expression."""

    row: int | None
    expression: str


@dataclass(frozen=True)
class Target:
    """What a condition refers to: our id, its choice list (None when not a choice
    question) and whether it is a select_multiple."""

    qid: str
    choices: ChoiceList | None
    multiple: bool


def combined_show_if(
    conditions: list[Condition], target_of: Callable[[str], Target | None],
    problems: list[Problem],
) -> dict[str, Any] | None:
    """The ``show_if`` that all ``conditions`` make together, or None with a refusal added
    to ``problems`` (None too when there are no conditions)."""
    question: str | None = None
    codes: list[str] | None = None
    for condition in conditions:
        parsed = _codes(condition, target_of, problems)
        if parsed is None:
            return None
        qid, these = parsed
        if question is not None and qid != question:
            problems.append(_refusal(condition, (
                f"relevant {condition.expression!r} names {qid!r} while an enclosing condition "
                f"names {question!r}: conditions on two questions are not supported")))
            return None
        question = qid
        codes = these if codes is None else [code for code in codes if code in these]
        if not codes:
            problems.append(_refusal(condition, (
                f"relevant {condition.expression!r} with its group's condition is never "
                "true: the question would never be shown")))
            return None
    if question is None or codes is None:
        return None
    if len(codes) == 1 and len(conditions) == 1:
        return {"question": question, "equals": codes[0]}
    return {"question": question, "in": codes}


def _codes(
    condition: Condition, target_of: Callable[[str], Target | None], problems: list[Problem]
) -> tuple[str, list[str]] | None:
    terms = relevant_terms(condition.expression)
    if terms is None:
        problems.append(_refusal(condition, (
            f"relevant {condition.expression!r} is not supported (only ${{q}} = 'c' and "
            "selected(${q}, 'c') on one earlier question, joined with 'or')")))
        return None
    target = target_of(terms.name)
    if target is None:
        problems.append(_refusal(condition, (
            f"relevant {condition.expression!r} names {terms.name!r}, which is not a "
            "converted question before it")))
        return None
    if target.multiple and terms.compares_whole:
        problems.append(_refusal(condition, (
            f"relevant {condition.expression!r}: '=' on the select_multiple {terms.name!r} "
            "means exactly that one choice, which show_if cannot say (selected() can)")))
        return None
    renamed = target.choices.renamed if target.choices is not None else {}
    return target.qid, list(dict.fromkeys(renamed.get(value, value) for value in terms.codes))


def _refusal(condition: Condition, message: str) -> Problem:
    return Problem("survey", condition.row, message, "relevant", refuses=True)
