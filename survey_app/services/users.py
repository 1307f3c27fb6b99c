"""Staff accounts."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.config import DEFAULTS
from survey_app.models import ApiToken, Community, Role, User, as_utc, utcnow
from survey_app.services import audit
from survey_app.services.account_policy import (
    FREE_FAILURES,
    PolicyError,
    check_password,
    check_username,
    login_blocked,
    normalise_username,
)


def _hash_method() -> str:
    # Outside an app (a script building users directly) the configured default applies.
    if has_app_context():
        return current_app.config["PASSWORD_HASH_METHOD"]
    return DEFAULTS["PASSWORD_HASH_METHOD"]


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    # Compared against when the user does not exist, so both paths cost one hash.
    return generate_password_hash("timing-equaliser", method=method)


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    session: Session,
    community_code: str | None = None,
    display_name: str = "",
    actor: User | None = None,
) -> User:
    try:
        username = check_username(username)
        check_password(password, username=username)
    except PolicyError as exc:
        raise UserError(str(exc)) from exc
    if role not in set(Role):
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(Role)}")
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(_("user “%(name)s” already exists", name=username))
    community_id = None
    if role == Role.WORKER:
        if not community_code:
            raise UserError("a worker needs --community CODE")
        community = session.exec(select(Community).where(Community.code == community_code)).first()
        if community is None:
            raise UserError(_("unknown community “%(code)s”", code=community_code))
        community_id = community.id
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method=_hash_method()),
        role=role,
        community_id=community_id,
    )
    session.add(user)
    session.flush()
    audit.record("user.create", "user", user.id, session=session, actor=actor,
                 label=None if actor else "cli", details={"role": role, "username": username})
    return user


def authenticate(username: str, password: str, *, session: Session) -> User | None:
    """Return the active user with these credentials, or None; same cost either way.

    Failed attempts are counted on the account (flushed: the caller commits them too) and,
    past a few, the account waits before any password is checked again
    (:mod:`survey_app.services.account_policy`).
    """
    # The account's row locked (PostgreSQL; SQLite's write transaction is IMMEDIATE): a
    # burst of parallel attempts is checked one after the other against the count the
    # earlier ones wrote, instead of each reading the same count and every password being
    # tried (and the count losing updates).
    user = session.exec(select(User).where(
        User.username == normalise_username(username)).with_for_update()).first()
    now = utcnow()
    if user is None or login_blocked(user.failed_logins, as_utc(user.last_failed_login_at),
                                     now):
        check_password_hash(_dummy_hash(_hash_method()), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        _count_failure(user, now, session=session)
        return None
    if user.failed_logins:
        user.failed_logins, user.last_failed_login_at = 0, None
        session.add(user)
        session.flush()
    return user


def _count_failure(user: User, now, *, session: Session) -> None:
    user.failed_logins += 1
    user.last_failed_login_at = now
    session.add(user)
    session.flush()
    if user.failed_logins == FREE_FAILURES + 1:
        audit.record("user.login_backoff", "user", user.id, session=session, label="login",
                     details={"failures": user.failed_logins})




def load_user(user_id: str, *, session: Session) -> User | None:
    """Load a user from the login session id ``<id>:<session_version>``."""
    raw_id, _, version = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = session.get(User, int(raw_id))
    if user is None or str(user.session_version) != version:
        return None
    return user


#: What decides what a signed-in account may do now (a replica's copy of it may lag).
STANDING = ("session_version", "active", "role", "unit_id", "community_id")


def refresh_standing(user: User, *, session: Session) -> User | None:
    """``user`` (read from a read replica) with its standing as ``session`` (the primary)
    has it now: None when the account is gone or its sessions were ended since, else its
    active flag, role, unit and community set from the primary without marking the copy
    changed. A replica replays writes with a lag: without this, an account deactivated or
    narrowed to one county a moment ago would still read as before."""
    row = session.exec(select(*(getattr(User, name) for name in STANDING))
                       .where(User.id == user.id)).first()
    if row is None or row.session_version != user.session_version:
        return None
    for name, value in zip(STANDING, row, strict=True):
        set_committed_value(user, name, value)
    return user


def end_sessions(user: User, *, session: Session) -> None:
    """Invalidate every session cookie of the account (logout).

    Sessions are signed cookies kept by the browser: clearing one client's cookie leaves a
    copied cookie valid. Bumping the version that every cookie carries kills them all."""
    user.session_version += 1
    session.add(user)
    session.flush()
    audit.record("user.logout", "user", user.id, session=session, actor=user)


def set_user_active(user: User, active: bool, *, session: Session,
                    actor: User | None = None) -> User:
    """Deactivate (or reactivate) an account; deactivating also ends its open sessions."""
    if actor is not None and actor.id == user.id and not active:
        raise UserError(_("you cannot deactivate your own account"))
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_version += 1  # logs the account out everywhere
        # Revoked, not suspended: reactivating must not bring old tokens back.
        now = utcnow()
        for token in session.exec(select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all():
            token.revoked_at = now
            session.add(token)
    session.add(user)
    session.flush()
    audit.record("user.activate" if active else "user.deactivate", "user", user.id,
                 session=session, actor=actor, label=None if actor else "cli",
                 details={"username": user.username})
    return user
