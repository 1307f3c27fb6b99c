"""Who answers through the open poster link: a roster household, or nobody we can name.

The open link (``/c/<slug>/<group>``) is printed on posters, so anyone can open it. An
answer counts only when it is tied to a roster household; the resident identifies the
household in one of two ways, both matched through keyed hashes (no clear personal data
is stored or compared):

- the **household code and its check code** printed on the household's letter
  (:func:`check_code`: 5 characters of an HMAC over the campaign and the code, so a
  sequential household code alone is not enough: a guesser needs one of 31**5 check codes
  per household, and every failed attempt costs the address a guess,
  ``survey_app.guessing``);
- the **last six characters of the household head's ID number and the phone number on the
  roster** (``Household.id_tail_hmac`` and ``phone_hmac``), for a resident who saw a poster
  and has no letter at hand.

Why not the household code alone: codes are sequential (``HS-CZ-0001``...), so whoever has
seen one letter could answer for every household. Why not the full ID number: 18 digits is
too much to type for many elderly residents; the last six plus the phone number is what a
resident knows and a stranger does not.

A matched response is that household's response: the first completed response of a
household counts across all channels (token, paper, open), later ones get the "already
answered" page. An answer without identification is stored *unverified*
(``household_id`` NULL) and left out of every estimate unless an evaluator includes
unverified responses (``ScoreFilters.include_unverified``).

The identity travels from the identification step to the questionnaire as a signed,
time-limited value in the form (:func:`sign_identity`), never in the server session. A value
that outlived :data:`IDENTITY_MAX_AGE` (:class:`IdentityExpired`) stores nothing: the form
comes back with every answer and the identification boxes beside them, and the post that
identifies the household again is stored as that household's (``public.routes``).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, or_
from sqlmodel import Session, select

from survey_app.models import (
    Campaign,
    Household,
    HouseholdPhone,
    Response,
    ResponseMode,
    ResponseStatus,
)
from survey_app.services.personal_data import ID_TAIL_LENGTH, id_tail_hash, keyed_hash
from survey_app.services.phone_numbers import canonical_phone

#: Check-code alphabet: no 0/O, 1/I/L, so a code read aloud or typed from paper is unambiguous.
CHECK_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHECK_LENGTH = 5
#: How long an identification stays valid for answering (a resident may pause for a day).
IDENTITY_MAX_AGE = 2 * 24 * 3600


@dataclass(frozen=True)
class Identified:
    """The roster household a resident identified on the open link."""

    household: Household
    method: str  # "code" or "id_phone"


def _plain(value: str) -> str:
    """What a resident typed, as compared: full-width forms folded (NFKC), upper case,
    without spaces and dashes."""
    folded = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in folded if ch not in " -_\u3000")


def check_code(campaign_id: int, household_code: str, key: str) -> str:
    """The check code printed beside ``household_code`` on the household's letter.

    >>> code = check_code(1, "HS-CZ-0001", "k")
    >>> len(code), set(code) <= set(CHECK_ALPHABET)
    (5, True)
    >>> code == check_code(1, "hs cz 0001", "k")
    True
    """
    digest = hmac.new(key.encode(), f"letter-check|{campaign_id}|{_plain(household_code)}"
                      .encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(CHECK_LENGTH):
        number, index = divmod(number, len(CHECK_ALPHABET))
        chars.append(CHECK_ALPHABET[index])
    return "".join(chars)


def by_code(campaign_id: int, household_code: str, check: str, *, session: Session,
            key: str) -> Household | None:
    """The household whose code and check code were typed, or None."""
    typed = _plain(household_code)
    if not typed or not hmac.compare_digest(_plain(check), check_code(campaign_id, typed, key)):
        return None
    plain_code = func.upper(func.replace(func.replace(Household.household_code, "-", ""),
                                         " ", ""))
    return session.exec(select(Household).where(Household.campaign_id == campaign_id,
                                                plain_code == typed)).first()


def by_id_and_phone(campaign_id: int, id_tail: str, phone: str, *, session: Session,
                    key: str) -> Household | None:
    """The household whose head's ID number ends in ``id_tail`` and whose roster phone is
    ``phone``, or None."""
    tail_hash = id_tail_hash(id_tail, key)
    digits = canonical_phone(phone or "")
    if tail_hash is None or len(_plain(id_tail)) != ID_TAIL_LENGTH or not digits:
        return None
    phone_hash = keyed_hash(digits, key)
    # Any of the household's roster numbers: the first on the row, further ones beside it.
    further = select(HouseholdPhone.household_id).where(HouseholdPhone.phone_hmac == phone_hash)
    return session.exec(select(Household).where(
        Household.campaign_id == campaign_id, Household.id_tail_hmac == tail_hash,
        or_(Household.phone_hmac == phone_hash, Household.id.in_(further)))).first()


def counted_response_of(household: Household, *, session: Session) -> Response | None:
    """The household's completed response through any channel, if it has one."""
    return session.exec(select(Response).where(
        Response.household_id == household.id, Response.status == ResponseStatus.COMPLETE)
        .order_by(Response.id)).first()


def web_answer_blocked_by(household: Household, campaign: Campaign, *,
                          session: Session) -> Response | None:
    """The household's counted response that refuses an answer through its letter's link
    now, or None (an open-link answer: :func:`counted_response_of`): the first response
    counts, except that under the ``keep_web`` duplicate rule a verified paper
    response gives way to the resident's own answer through the letter's link, which
    then supersedes it. An identified open-link answer does not: an
    ID number's tail and a phone number are weaker than the letter's link, and whoever
    knows them must not replace a verified paper form after the fact (rev4)."""
    earlier = counted_response_of(household, session=session)
    if earlier is not None and gives_way_to_letter(earlier, campaign):
        return None
    return earlier


def gives_way_to_letter(earlier: Response, campaign: Campaign) -> bool:
    """Whether the household's counted response ``earlier`` gives way to an answer through
    its letter's link (see :func:`web_answer_blocked_by`)."""
    return campaign.duplicate_rule == "keep_web" and earlier.mode == ResponseMode.PAPER


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="open-link-identity")


def sign_identity(identified: Identified, slug: str, *, secret: str) -> str:
    """A form value naming the household for the questionnaire that follows."""
    return _serializer(secret).dumps([slug, identified.household.id, identified.method])


class IdentityExpired(Exception):
    """A genuine identification of this link, signed longer ago than it lasts: the resident
    identifies the household again (the answers typed meanwhile are kept)."""


def read_identity(value: str, slug: str, *, secret: str,
                  max_age: int = IDENTITY_MAX_AGE) -> tuple[int, str] | None:
    """(household id, method) of a value made by :func:`sign_identity` for ``slug``; None
    for a forged or other campaign's value; :class:`IdentityExpired` for a genuine one older
    than ``max_age`` seconds."""
    try:
        payload, signed_at = _serializer(secret).loads(value, return_timestamp=True)
        signed_slug, household_id, method = payload
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_slug != slug or not isinstance(household_id, int):
        return None
    if (datetime.now(UTC) - signed_at).total_seconds() > max_age:
        raise IdentityExpired
    return household_id, str(method)


def identify(campaign_id: int, way: str, typed: dict[str, str], *, session: Session,
             key: str) -> Household | None:
    """The household named by what was typed in one ``way`` ("code": ``household_code``
    and ``check_code``; "id_phone": ``id_tail`` and ``phone``), or None."""
    if way == "code":
        return by_code(campaign_id, typed["household_code"], typed["check_code"],
                       session=session, key=key)
    return by_id_and_phone(campaign_id, typed["id_tail"], typed["phone"], session=session,
                           key=key)
