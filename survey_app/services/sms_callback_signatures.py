"""Signed SMS callback posts, each accepted once and only while its timestamp is fresh.

With ``SMS_CALLBACK_SIGNING_KEY`` set, a callback post (``gateway/routes.py``) carries

    X-Survey-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256 under the key of
                        "<t>." followed by the raw body>

The timestamp is signed with the body, so it cannot be changed. A post is refused
(nothing applied):

- ``signature`` (401): no header, another format (the body's HMAC alone, which a captured
  post would replay for ever), another key, a changed body or timestamp;
- ``stale`` (401): a good signature whose timestamp is more than
  ``SMS_CALLBACK_SIGNATURE_WINDOW_SECONDS`` (300) from now, either way;
- ``replayed`` (409): a good, fresh signature that was already accepted. Accepted
  signatures are kept (:class:`~survey_app.models.SmsCallbackSignature`, in the transaction
  that applies the post, so a post that fails leaves nothing) until their timestamp leaves
  the window; a relay that retries signs again with a new timestamp.

Without this, a captured signed TD reply could be posted again later and opt a household out
again after a roster re-import.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from survey_app.models import SmsCallbackSignature

SIGNATURE_HEADER = "X-Survey-Signature"
_FORMAT = re.compile(r"t=(\d{1,12}),sha256=([0-9a-fA-F]{64})\Z")
_TABLE = SmsCallbackSignature.__table__


class SignatureRefused(Exception):
    """Why a post's signature is refused: ``error`` ("signature", "stale", "replayed") and
    the HTTP ``status``."""

    def __init__(self, error: str, status: int = 401):
        super().__init__(error)
        self.error, self.status = error, status


@dataclass(frozen=True)
class SignedPost:
    digest: str  # the post's HMAC (hex)
    signed_at: datetime


def verify(header: str, body: bytes, *, key: str, now: datetime,
           window_seconds: int) -> SignedPost:
    """The post's signature if it is right and its timestamp within ``window_seconds`` of
    ``now``; :class:`SignatureRefused` otherwise (compared in constant time)."""
    match = _FORMAT.match(header.strip())
    if match is None:
        raise SignatureRefused("signature")
    stamp, given = match.groups()
    expected = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise SignatureRefused("signature")
    signed_at = datetime.fromtimestamp(int(stamp), UTC)
    if abs((now - signed_at).total_seconds()) > window_seconds:
        raise SignatureRefused("stale")
    return SignedPost(expected, signed_at)


def claim(signed: SignedPost, *, session: Session, now: datetime,
          window_seconds: int) -> None:
    """Record ``signed`` as accepted; :class:`SignatureRefused` ("replayed", 409) if it
    already was. Signatures whose timestamp left the window are forgotten first (they
    would be refused as stale anyway)."""
    session.execute(delete(_TABLE).where(
        _TABLE.c.signed_at < now - timedelta(seconds=window_seconds)))
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(insert(_TABLE).values(
        digest=signed.digest, signed_at=signed.signed_at)
        .on_conflict_do_nothing(index_elements=["digest"]).returning(_TABLE.c.id)).first()
    if inserted is None:
        raise SignatureRefused("replayed", 409)
