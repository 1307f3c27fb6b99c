"""Text that no spreadsheet evaluates as a formula (OWASP CSV injection), for every file we
write that Excel or WPS may open: the exports, the summary and indicator workbooks, and the
files the CLI writes (``tokens.csv`` of ``tokens issue`` and ``letters``).

OWASP's list of characters that start a formula at the beginning of a cell: ``=``, ``+``,
``-``, ``@``, tab (0x09) and carriage return (0x0D). A line feed is added (a cell starting
with one is shown from its second line, hiding what follows) and the full-width forms
``＝ ＋ － ＠`` that a Chinese input method types, which WPS reads like the ASCII ones. Such a
cell is prefixed with an apostrophe, which the spreadsheet shows as text and does not display;
the CSV writer quotes what needs quoting. Non-text values (numbers) are left as they are.

>>> neutralise("=cmd|' /C calc'!A0"), neutralise("桃花仑社区"), neutralise(-3)
("'=cmd|' /C calc'!A0", '桃花仑社区', -3)
"""

from __future__ import annotations

from collections.abc import Iterable

#: Characters that make a spreadsheet cell a formula (or hide it), at its start.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n",
                                     "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: object) -> object:
    """The value, with an apostrophe in front when it is text starting a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """:func:`neutralise` on every cell of a row."""
    return [neutralise(value) for value in values]
