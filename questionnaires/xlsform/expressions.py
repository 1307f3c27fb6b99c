"""The XPath expressions of XLSForm that convert: simple ``relevant`` and ``constraint``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUOTED = r"""(?:'(?P<{0}1>[^']*)'|"(?P<{0}2>[^"]*)"|(?P<{0}3>-?\d+))"""
_EQUALS = re.compile(r"\$\{(?P<name>[^}\s]+)\}\s*=\s*" + _QUOTED.format("v"))
_SELECTED = re.compile(
    r"selected\(\s*\$\{(?P<name>[^}\s]+)\}\s*,\s*" + _QUOTED.format("v") + r"\s*\)"
)
_BOUND = re.compile(r"\.\s*(?P<op>>=|<=|>|<)\s*(?P<n>-?\d+)")
_LENGTH = re.compile(r"string-length\(\s*\.\s*\)\s*(?P<op><=|<)\s*(?P<n>\d+)")


def relevant_codes(expression: str) -> tuple[str, list[str]] | None:
    """The question name and codes of ``${q} = 'c'`` / ``selected(${q}, 'c')`` terms joined
    by ``or``, all on one question; None for anything else.

    >>> relevant_codes("${a} = '1' or selected(${a}, 2)")
    ('a', ['1', '2'])
    >>> relevant_codes("${a} = '1' and ${b} = '2'") is None
    True
    """
    terms = relevant_terms(expression)
    return None if terms is None else (terms.name, terms.codes)


@dataclass(frozen=True)
class RelevantTerms:
    """``name`` is shown when its answer is one of ``codes``; ``compares_whole``: some
    term is ``${q} = 'c'``, which on a select_multiple means exactly that one choice."""

    name: str
    codes: list[str]
    compares_whole: bool


def relevant_terms(expression: str) -> RelevantTerms | None:
    """:func:`relevant_codes` with the kind of comparison used.

    >>> relevant_terms("selected(${a}, 'x')").compares_whole
    False
    """
    terms = [
        _strip_parentheses(term)
        for term in re.split(r"\s+or\s+", _strip_parentheses(expression))
    ]
    matches = [(_EQUALS.fullmatch(term), _SELECTED.fullmatch(term)) for term in terms]
    found = [equals or selected for equals, selected in matches]
    names = {match["name"] for match in found if match}
    if not all(found) or len(names) != 1:
        return None
    codes = [
        next(match[group] for group in ("v1", "v2", "v3") if match[group] is not None)
        for match in filter(None, found)
    ]
    return RelevantTerms(names.pop(), codes, any(equals for equals, _ in matches))


def constraint_bounds(constraint: str, question_type: str) -> dict[str, int] | None:
    """``min``/``max`` of an integer or ``max_length`` of a text; None if it does not convert.

    >>> constraint_bounds(". >= 1 and . < 21", "integer")
    {'min': 1, 'max': 20}
    >>> constraint_bounds("string-length(.) <= 200", "text")
    {'max_length': 200}
    """
    parts = [part.strip() for part in re.split(r"\s+and\s+", constraint)]
    bounds = [_BOUND.fullmatch(part) for part in parts]
    if question_type == "integer" and all(bounds):
        result = {}
        for match in filter(None, bounds):
            bound = int(match["n"])
            op = match["op"]
            key = "min" if op.startswith(">") else "max"
            result[key] = bound + (op == ">") - (op == "<")
        return result
    if question_type == "text" and len(parts) == 1 and (match := _LENGTH.fullmatch(parts[0])):
        return {"max_length": int(match["n"]) - (match["op"] == "<")}
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
