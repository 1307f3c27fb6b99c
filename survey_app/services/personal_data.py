"""Keyed hashes and masks for personal data (PIPL): raw values are never stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def keyed_hash(value: str, key: str) -> str:
    """HMAC-SHA256 of a normalised value, hex encoded, for matching without storing."""
    normalised = value.strip().upper().encode()
    return hmac.new(key.encode(), normalised, hashlib.sha256).hexdigest()


#: The open link identifies a household by the last characters of its head's ID number.
ID_TAIL_LENGTH = 6


def id_tail_hash(id_number_or_tail: str, key: str) -> str | None:
    """Keyed hash of the last six characters of an ID number (None if it is shorter),
    separate from the whole number's hash (:mod:`survey_app.services.open_identity`).

    >>> id_tail_hash("430903199001011234", "k") == id_tail_hash(" 011234", "k")
    True
    """
    folded = unicodedata.normalize("NFKC", id_number_or_tail or "")
    tail = "".join(folded.split()).upper()[-ID_TAIL_LENGTH:]
    if len(tail) < ID_TAIL_LENGTH:
        return None
    return keyed_hash("id-tail:" + tail, key)


def id_number_check_char(first17: str) -> str:
    """GB 11643-1999 check character of an 18-digit resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    value = value.strip().upper()
    return bool(ID_NUMBER_RE.match(value)) and id_number_check_char(value[:17]) == value[17]


def is_valid_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value.strip()))


def mask_id_number(value: str) -> str:
    """``430903199001011234`` → ``430903********1234``."""
    value = value.strip().upper()
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    value = value.strip()
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``: the family name only."""
    value = value.strip()
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_address(value: str) -> str:
    """Keep the first part of an address (street, building) and hide the rest."""
    value = value.strip()
    keep = max(0, min(len(value) - 4, 8))
    return value[:keep] + "*" * (len(value) - keep) if value else ""


def new_secret_token() -> str:
    """A URL-safe token with 160 random bits."""
    return secrets.token_urlsafe(20)


def token_hash(token: str) -> str:
    """Tokens are random, so a plain SHA-256 suffices (no key, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
