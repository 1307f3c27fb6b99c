"""Receipt checks: a resident (or the hotline, reading the code over the phone) learns that
an answer with this receipt code was received, and on which day; nothing else.

Nothing else, on purpose: the code is printed on the resident's screen and may be read out
or photographed, so it must not open the answers, the household or even the survey's name.
Receipt codes are 8 characters of ``responses.RECEIPT_ALPHABET`` (25**8, about 1.5e11
codes), and every code that matches nothing costs the address a guess
(``survey_app.guessing``), so trying codes finds nothing in practice.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlmodel import Session, select

from survey_app.models import Response, ResponseStatus, as_utc
from survey_app.services.responses import RECEIPT_ALPHABET, RECEIPT_LENGTH
from survey_app.services.score_filters import BEIJING

#: What a typed code must look like once folded (:func:`plain_receipt_code`).
RECEIPT_PATTERN = rf"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}\Z"


def plain_receipt_code(typed: str | None) -> str:
    """A typed code as stored: full-width forms folded, upper case, no spaces or dashes.

    >>> plain_receipt_code(" acde-３４６７ ")
    'ACDE3467'
    """
    folded = unicodedata.normalize("NFKC", typed or "").upper()
    return "".join(ch for ch in folded if ch not in " -_\u3000")


def received_on(code: str, *, session: Session) -> date | None:
    """The day (Beijing time) a complete answer with receipt ``code`` arrived, or None."""
    response = session.exec(select(Response).where(
        Response.receipt_code == plain_receipt_code(code),
        Response.status == ResponseStatus.COMPLETE).order_by(Response.id)).first()
    if response is None:
        return None
    return as_utc(response.submitted_at or response.created_at).astimezone(BEIJING).date()
