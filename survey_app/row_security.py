"""The unit path PostgreSQL's row-level security filters by (migration 0024).

A request of an account granted a unit (``services.unit_scope``) sets
``survey.unit_path`` to that unit's path, transaction-local (``set_config(..., true)``), in
every transaction its session begins, and in the one already under way when the account is
known (the login loader runs inside it). The policies then hide every row of a campaign
outside the path, so a view or service that forgets the application's own filter still
reads nothing of another county. Requests of global accounts and residents, the CLI and
migrations leave it unset, which the policies read as "every row"; being transaction-local,
nothing carries over to the next user of a pooled connection.

SQLite has no row-level security: pilots there rely on the application's scoping alone.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Connection, event, text
from sqlmodel import Session

from survey_app.models import User

SETTING = "survey.unit_path"
_G_KEY = "survey_unit_path"
_SET = text("SELECT set_config(:name, :path, true)")


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _forget_scope(_exc: BaseException | None = None):
        # Tests keep one app context (and so one g) across their requests.
        g.pop(_G_KEY, None)

    if not event.contains(Session, "after_begin", _after_begin):
        event.listen(Session, "after_begin", _after_begin)


def apply_scope(user: User, *, session: Session) -> str:
    """Remember ``user``'s unit path for this request's transactions and set it in the one
    under way; returns the path ("" : every row)."""
    from survey_app.services import unit_scope

    path = unit_scope.scope_path(user, session=session)
    g.survey_unit_path = path
    if session.in_transaction() and session.bind.dialect.name == "postgresql" and (
            path or _bound_to_test_connection()):
        set_unit_path(session.connection(), path)
    return path


def set_unit_path(connection: Connection, path: str) -> None:
    """Set ``survey.unit_path`` for the rest of ``connection``'s transaction."""
    connection.execute(_SET, {"name": SETTING, "path": path})


def _bound_to_test_connection() -> bool:
    # Tests run every request inside one outer transaction, where a transaction-local
    # setting outlives the request; there the setting is always written, "" included.
    return current_app.extensions["survey_db"].bind_override is not None


def _after_begin(_session: Session, _transaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql" or not has_app_context():
        return
    path = g.get(_G_KEY)
    # Unset costs nothing: only scoped requests pay the extra statement.
    if path or _bound_to_test_connection():
        set_unit_path(connection, path or "")
