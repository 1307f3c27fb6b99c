"""The unit path PostgreSQL's row-level security filters by (migrations 0027, 0029).

The policies fail closed: with ``survey.unit_path`` unset (or empty) no campaign row is
visible. A unit's path (``/430000/430900/430903/``) shows that subtree; :data:`ALL_UNITS`
shows every row. Every piece of code that reads campaign data therefore says whose scope it
acts in, through one context manager, :func:`acting_as`:

- a request decides once its account is known (:func:`init_app`): an account granted a unit
  acts in that unit's path (``services.unit_scope``), a global account and a request without
  an account (a resident's link, the login page) in :data:`ALL_UNITS`; the API does the same
  for its bearer token's account;
- every CLI command runs in :data:`ALL_UNITS` (``survey_app.cli.register``): it is the
  operator on the server, holding the database's credentials anyway; so does the operator's
  ``survey-app shell`` / ``flask shell`` (a shell context processor, with a one-line notice);
- a background job's own bookkeeping (claiming, heartbeats, progress, the relay) acts in
  :data:`ALL_UNITS`, and the job's work in its requester's path (``survey_app.job_queue``),
  so a county user's export cannot include another county's rows;
- migrations and ``survey-app backup`` set the marker on their own connections.

Anything else (a script, a thread that forgot to say) sees nothing. The setting is
transaction-local (``set_config(..., true)``), written in every transaction a session
begins (``after_begin``) and in the one under way when the scope changes; nothing carries
over to the next user of a pooled connection.

SQLite has no row-level security: pilots there rely on the application's scoping alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import click
from flask import Flask, current_app, g, has_app_context, request
from flask_login import current_user
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from survey_app.models import User

SETTING = "survey.unit_path"
#: The path that shows every unit's rows (migration 0029); unset or "" shows none.
ALL_UNITS = "*"
_G_KEY = "survey_unit_path"
SHELL_NOTICE = ("Row security: this shell acts for every unit (survey.unit_path='*'); "
                "row_security.acting_as(unit.path) narrows a block to one unit.")
_SET = text("SELECT set_config(:name, :path, true)")


def init_app(app: Flask) -> None:
    @app.before_request
    def _decide_scope():
        if request.endpoint == "static":
            return  # no database
        # Loading the account applies its scope (the login loader calls apply_scope).
        if current_user.is_anonymous and g.get(_G_KEY) is None:
            _remember(ALL_UNITS)  # a resident's link reaches any county's campaign
            _set_in_open_transaction(ALL_UNITS)  # (tests: one session across requests)

    @app.teardown_request
    def _forget_scope(_exc: BaseException | None = None):
        # Tests keep one app context (and so one g) across their requests.
        g.pop(_G_KEY, None)

    @app.shell_context_processor
    def _shell_acts_for_every_unit() -> dict:
        # `survey-app shell` / `flask shell`: the operator, who holds the database's
        # credentials anyway, like every CLI command; said once, as the shell starts.
        _remember(ALL_UNITS)
        _set_in_open_transaction(ALL_UNITS)
        click.echo(SHELL_NOTICE, err=True)
        return {}

    if not event.contains(Session, "after_begin", _after_begin):
        event.listen(Session, "after_begin", _after_begin)


def path_for(user: User | None, *, session: Session) -> str:
    """The path ``user`` acts in: its unit's, or :data:`ALL_UNITS` for a global account;
    "" (nothing) for no account at all (a job whose requester was deleted)."""
    from survey_app.services import unit_scope

    if user is None:
        return ""
    path = unit_scope.scope_path(user, session=session)
    if path == unit_scope.UNREACHABLE_PATH:
        return ""  # a grant whose unit is gone: nothing (PostgreSQL text cannot hold NUL)
    return path or ALL_UNITS


def apply_scope(user: User, *, session: Session) -> str:
    """Act in ``user``'s path for the rest of this request (its transactions, and the one
    under way: the login loader runs inside it); returns the path."""
    path = path_for(user, session=session)
    _remember(path)
    if session.in_transaction() and session.bind.dialect.name == "postgresql":
        set_unit_path(session.connection(), path)
    return path


@contextmanager
def acting_as(path: str) -> Iterator[str]:
    """Run the block in ``path`` (a unit's path, :data:`ALL_UNITS`, or "" for nothing):
    the transactions begun in it, and the request session's transaction under way, read
    and write as that scope; the previous scope is restored after it.

    Examples
    --------
    >>> with row_security.acting_as(row_security.ALL_UNITS):     # doctest: +SKIP
    ...     jobs.due_jobs(session=session, now=now, lease=lease)
    """
    previous = g.get(_G_KEY)
    _remember(path)
    _set_in_open_transaction(path)
    try:
        yield path
    finally:
        if previous is None:
            g.pop(_G_KEY, None)
        else:
            _remember(previous)
        _set_in_open_transaction(previous or "")


def current_path() -> str | None:
    """The path this request or block acts in (None: nobody said, which sees nothing).

    A streamed response body runs after the request's teardown, which forgets the scope;
    its view hands this to :func:`acting_as` inside the stream.
    """
    return g.get(_G_KEY)


def set_unit_path(connection: Connection, path: str) -> None:
    """Set ``survey.unit_path`` for the rest of ``connection``'s transaction."""
    connection.execute(_SET, {"name": SETTING, "path": path})


def _remember(path: str) -> None:
    g.survey_unit_path = path


def _set_in_open_transaction(path: str) -> None:
    session = g.get("db_session")
    if session is None or not session.in_transaction() or \
            session.bind.dialect.name != "postgresql":
        return
    # An aborted transaction reads nothing; the next one begins with the new scope.
    with suppress(DBAPIError):
        set_unit_path(session.connection(), path)


def _bound_to_test_connection() -> bool:
    # Tests run every request inside one outer transaction, where a transaction-local
    # setting outlives the request; there the setting is always written ("" when unset).
    return current_app.extensions["survey_db"].bind_override is not None


def _after_begin(_session: Session, _transaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql" or not has_app_context():
        return
    path = g.get(_G_KEY)
    # Unset: nothing is written, and the policies show nothing (fail closed).
    if path is not None or _bound_to_test_connection():
        set_unit_path(connection, path or "")
