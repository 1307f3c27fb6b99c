"""Errors raised when a questionnaire definition is invalid."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Issue:
    """One problem in a questionnaire definition.

    ``file`` names the source (a path, ``builtin:<name>`` or ``<string>``), ``path`` is the
    location inside the definition in ``sections[2].questions[4].options`` notation (empty for
    the document as a whole) and ``message`` says what is wrong.
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class QuestionnaireError(ValueError):
    """A questionnaire definition failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(self.issues)

    def __str__(self) -> str:
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid questionnaire definition ({count} {noun}):"]
        lines.extend(f"  {issue}" for issue in self.issues)
        return "\n".join(lines)


def format_path(loc: Sequence[int | str]) -> str:
    """Render a location tuple as ``sections[2].questions[4].options``.

    >>> format_path(("sections", 2, "questions", 4, "options"))
    'sections[2].questions[4].options'
    >>> format_path(("scale", "codes", "6"))
    'scale.codes["6"]'
    >>> format_path(())
    ''
    """
    parts: list[str] = []
    for element in loc:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif _IDENTIFIER.fullmatch(element):
            parts.append(f".{element}" if parts else element)
        else:
            parts.append(f'["{element}"]')
    return "".join(parts)
