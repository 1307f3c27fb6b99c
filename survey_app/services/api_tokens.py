"""Bearer tokens for the JSON API.

A token lasts :data:`DEFAULT_DAYS` unless created with another lifetime (at most
:data:`MAX_DAYS`), and can be revoked before that. A token past its expiry is refused with
its own reason (:class:`TokenExpired`): whoever holds it once had access and only needs a
new one, so it is not counted as a guess either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from survey_app.models import ApiToken, User, as_utc, utcnow
from survey_app.services import audit
from survey_app.services.personal_data import new_secret_token, token_hash

#: A token's lifetime unless ``survey-app api-token create --days`` says otherwise.
DEFAULT_DAYS = 180
#: The longest lifetime a token may be given (two evaluation years).
MAX_DAYS = 730


class TokenExpired(Exception):
    """A genuine token used after its expiry."""

    def __init__(self, expires_at):
        super().__init__(f"the token expired on {expires_at:%Y-%m-%d %H:%M} UTC")
        self.expires_at = expires_at


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the plain token: shown once, never stored
    record: ApiToken


def issue_api_token(user: User, *, session: Session, name: str = "",
                    days: int = DEFAULT_DAYS) -> IssuedToken:
    """Create a token valid for ``days`` days; the plain token exists only in the result."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_DAYS} days, not {days}")
    token = new_secret_token()
    now = utcnow()
    record = ApiToken(user_id=user.id, name=name, token_hash=token_hash(token),
                      created_at=now, expires_at=now + timedelta(days=days))
    session.add(record)
    session.flush()
    audit.record("api_token.create", "api_token", record.id, session=session, label="cli",
                 details={"user": user.username, "days": days})
    return IssuedToken(token, record)


def create_api_token(user: User, *, session: Session, name: str = "",
                     days: int = DEFAULT_DAYS) -> str:
    """Create a token and return it: the only time the plain token exists."""
    return issue_api_token(user, session=session, name=name, days=days).token


def user_for_token(token: str, *, session: Session) -> User | None:
    """The active account of a valid token; None for an unknown or revoked token or an
    inactive account; :class:`TokenExpired` for a token past its expiry."""
    record = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if record is None or record.revoked_at is not None:
        return None
    if as_utc(record.expires_at) <= utcnow():
        raise TokenExpired(as_utc(record.expires_at))
    user = session.get(User, record.user_id)
    return user if user is not None and user.active else None


def token_listing(*, session: Session) -> list[tuple[ApiToken, str]]:
    """Every token with its account's username, oldest first (no token value is stored)."""
    rows = session.exec(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                        .order_by(ApiToken.id)).all()
    return [(record, username) for record, username in rows]


def token_state(record: ApiToken) -> str:
    """"revoked", "expired" or "active"."""
    if record.revoked_at is not None:
        return "revoked"
    return "expired" if as_utc(record.expires_at) <= utcnow() else "active"


def revoke_api_token(token_id: int, *, session: Session) -> None:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise ValueError(f"no API token with id {token_id}")
    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
    audit.record("api_token.revoke", "api_token", token_id, session=session, label="cli")
