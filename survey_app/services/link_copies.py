"""Encrypted copies of survey links, so that a letter can be printed again.

Why a copy at all: a link used to exist in clear only in the response that issued it, so a
reload of the letters page, a jammed printer or a lost letter left one way out, issuing
again, which revoked letters already delivered. Two designs were weighed (issue 21):

- **render only new links, reissue single households**: keeps "tokens only as hashes", but
  every reprint changes the household's link, so a letter reprinted by mistake silently kills
  the one already in the letterbox, and nothing can send the same link again later (an SMS
  reminder needs it);
- **an encrypted copy** (chosen): the link is looked up by its SHA-256 as before, and kept
  besides as Fernet ciphertext (AES-128-CBC + HMAC-SHA256, authenticated) under the *link
  key*. Letters are re-rendered from it at any time without touching the link; a single
  household's link can still be reissued when a letter went astray.

What it costs: whoever holds both the database and the link key can open live links (answer
for a household that has not answered; answered households are never reopened). The key is
not in the database: ``LINK_KEY`` in the instance config or ``SURVEY_LINK_KEY``, and when it
is empty it is derived from ``PII_KEY`` (HKDF-SHA256 with its own label), which a deployment
already keeps secret and stable. Changing the key leaves the old copies unreadable: those
letters are printed again by reissuing their links (the letters page lists them).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_LABEL = b"survey-app link copy v1"


def fernet_for(secret: str) -> Fernet:
    """The cipher of the link copies under ``secret`` (any string; HKDF makes the key).

    >>> box = fernet_for("some long secret")
    >>> box.decrypt(box.encrypt(b"abc"))
    b'abc'
    """
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def current_fernet() -> Fernet:
    """The cipher of this app: ``LINK_KEY``, or ``PII_KEY`` when that is empty."""
    config = current_app.config
    return fernet_for(config.get("LINK_KEY") or config["PII_KEY"])


def seal(token: str, *, box: Fernet | None = None) -> str:
    """The stored copy of ``token``."""
    return (box or current_fernet()).encrypt(token.encode()).decode()


def unseal(copy: str | None, *, box: Fernet | None = None) -> str | None:
    """The token of a stored copy; None without a copy or when the key has changed."""
    if not copy:
        return None
    try:
        return (box or current_fernet()).decrypt(copy.encode()).decode()
    except InvalidToken:
        return None
