"""Bearer tokens for the JSON API."""

from __future__ import annotations

from sqlmodel import Session, select

from survey_app.models import ApiToken, User, utcnow
from survey_app.services import audit
from survey_app.services.personal_data import new_secret_token, token_hash


def create_api_token(user: User, *, session: Session, name: str = "") -> str:
    """Create a token and return it: the only time the plain token exists."""
    token = new_secret_token()
    record = ApiToken(user_id=user.id, name=name, token_hash=token_hash(token))
    session.add(record)
    session.flush()
    audit.record("api_token.create", "api_token", record.id, session=session, label="cli",
                 details={"user": user.username})
    return token


def user_for_token(token: str, *, session: Session) -> User | None:
    record = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if record is None or record.revoked_at is not None:
        return None
    user = session.get(User, record.user_id)
    return user if user is not None and user.active else None


def revoke_api_token(token_id: int, *, session: Session) -> None:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise ValueError(f"no API token with id {token_id}")
    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
    audit.record("api_token.revoke", "api_token", token_id, session=session, label="cli")
