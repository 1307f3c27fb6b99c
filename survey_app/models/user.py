"""Accounts of staff (workers, evaluators, admins) and their API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    # SQLite reuses the highest id after a delete unless the table is AUTOINCREMENT; a
    # reused id would inherit a deleted account's cookies ("id:session_version") and tokens.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=100)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    # Workers are scoped to one community; admins and evaluators see all.
    community_id: int | None = Field(default=None, foreign_key="community.id")
    # Evaluators may be limited to a unit's subtree (services.unit_scope); None: everything.
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    active: bool = True
    # Bumped on password change or logout-everywhere; part of the login session id.
    session_version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    # Failed logins in a row and the last one: the per-account backoff
    # (services.account_policy); a successful login clears both.
    failed_logins: int = 0
    last_failed_login_at: datetime | None = None

    @property
    def is_active(self) -> bool:  # flask-login reads this
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(SQLModel, table=True):
    """Bearer token for the read-only JSON API. Only its SHA-256 is stored."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    #: After this the token is refused (401 "expired"); ``survey-app api-token create
    #: --days`` sets it (services.api_tokens).
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
