"""Phone numbers as real rosters hold them: mobiles, landlines with area codes, extensions,
several numbers in one cell, full-width digits and spaces.

Each number is reduced to a canonical digit string that its keyed hash is taken of
(:func:`survey_app.services.personal_data.keyed_hash`): an 11-digit mobile as before
(``13812345678``, so rosters imported earlier still match), a landline as its area code and
local number (``07374212345``). An extension is accepted and dropped: a household is
identified by the line, and a resident typing the number on the open link does not type
the extension. What a resident types there is read the same way
(:func:`canonical_phone`).

>>> [n.digits for n in parse_phone_numbers("０７３７－４２１２３４５；138 1234 5678")]
['07374212345', '13812345678']
>>> parse_phone_number("(0737)4212345 转 801")
PhoneNumber(digits='07374212345', kind='landline', extension='801')
>>> parse_phone_number("+86 10 6512 3456").digits
'01065123456'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _

#: At most this many numbers in one roster cell.
MAX_NUMBERS = 4

_CELL_SEPARATORS = re.compile(r"[;,/、|]|或")
_EXTENSION = re.compile(r"^(?P<main>.+?)\s*(?:转|分机|ext\.?|x|#)\s*(?P<extension>\d{1,6})$",
                        re.IGNORECASE)
# A dash after a complete landline (area code, local number) starts an extension.
_DASH_EXTENSION = re.compile(
    r"^(?P<main>\(?0\d{2,3}\)?[-\s]?[2-9]\d{6,7})-(?P<extension>\d{1,6})$")
_COUNTRY = re.compile(r"^(?:\+|00)86[-\s]*")
_FORMATTING = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# 010 and 02x are three-digit area codes; the others have four digits. Local numbers have
# 7 or 8 digits and start with 2-9.
_LANDLINE = re.compile(r"(?:0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7})")


@dataclass(frozen=True)
class PhoneNumber:
    """One number: ``digits`` (canonical, hashed), ``kind`` and an extension if written."""

    digits: str
    kind: str  # "mobile" or "landline"
    extension: str = ""


class PhoneNumberError(ValueError):
    """Not a phone number we can match; the message says which part and why, never the
    number itself (it is shown on pages and kept in no log)."""


def _folded(text: str) -> str:
    # Full-width digits, punctuation and spaces (as a Chinese input method types them) to
    # their ASCII forms; the ideographic comma 、 is kept (it is a separator).
    return unicodedata.normalize("NFKC", text).strip()


def parse_phone_number(text: str) -> PhoneNumber:
    """One number as written; PhoneNumberError when it is not a mobile or a landline with
    its area code."""
    written = _folded(text)
    main, extension = written, ""
    match = _EXTENSION.match(written) or _DASH_EXTENSION.match(written)
    if match:
        main, extension = match["main"], match["extension"]
    country = _COUNTRY.match(main)
    digits = _FORMATTING.sub("", main[country.end():] if country else main)
    if not digits.isdigit():
        raise PhoneNumberError(_("holds characters other than digits"))
    if country and not digits.startswith("0") and not _MOBILE.fullmatch(digits):
        digits = "0" + digits  # +86 737 … and +86 10 … drop the area code's leading 0
    if not country and len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return PhoneNumber(digits, "mobile", extension)
    if _LANDLINE.fullmatch(digits):
        return PhoneNumber(digits, "landline", extension)
    if len(digits) in (7, 8) and digits[0] not in "01":
        raise PhoneNumberError(_("a landline without its area code; write it with the area "
                                 "code (e.g. 0737-4212345)"))
    raise PhoneNumberError(_("not an 11-digit mainland mobile number or a landline with its "
                             "area code (e.g. 0737-4212345)"))


def _segment_numbers(segment: str) -> list[PhoneNumber]:
    """A part of the cell between separators: one number (spaces inside it allowed), or
    several separated by spaces."""
    try:
        return [parse_phone_number(segment)]
    except PhoneNumberError as whole:
        parts = segment.split()
        if len(parts) < 2:
            raise
        try:
            return [parse_phone_number(part) for part in parts]
        except PhoneNumberError:
            raise whole from None


def parse_phone_numbers(cell: str) -> list[PhoneNumber]:
    """Every number in a roster cell (separated by ; , / 、 | 或 or spaces), duplicates once.

    Empty cell: no numbers. PhoneNumberError names the first part that is not a number.
    """
    numbers: list[PhoneNumber] = []
    segments = [part.strip() for part in _CELL_SEPARATORS.split(_folded(cell)) if part.strip()]
    for place, segment in enumerate(segments, start=1):
        try:
            found = _segment_numbers(segment)
        except PhoneNumberError as exc:
            if len(segments) == 1:
                raise
            raise PhoneNumberError(_("number %(place)s of %(count)s in the cell: %(reason)s",
                                     place=place, count=len(segments), reason=exc)) from None
        numbers.extend(n for n in found if n.digits not in {m.digits for m in numbers})
    if len(numbers) > MAX_NUMBERS:
        raise PhoneNumberError(_("%(n)s phone numbers in one cell (at most %(most)s)",
                                 n=len(numbers), most=MAX_NUMBERS))
    return numbers


def dialable(numbers: list[PhoneNumber]) -> str:
    """The numbers as a worker dials them, extensions after 转, separated by ；.

    >>> dialable(parse_phone_numbers("0737-4212345转801, １３８１２３４５６７８"))
    '07374212345转801；13812345678'
    """
    return "；".join(n.digits + (f"转{n.extension}" if n.extension else "") for n in numbers)


def canonical_phone(typed: str) -> str | None:
    """The canonical digits of one number a resident typed, None if it is not one.

    >>> [canonical_phone(t) for t in ("１３８－１２３４－５６７８", "0737 4212345", "12")]
    ['13812345678', '07374212345', None]
    """
    try:
        return parse_phone_number(typed).digits
    except PhoneNumberError:
        return None
