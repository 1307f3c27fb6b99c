"""A GET or HEAD request that loses the read replica in the middle runs once more on the primary.

:mod:`survey_app.replica_breaker` tests the replica when a request's session begins there; a
connection the replica drops after that (a restart, a failover, a terminated backend, a
query cancelled for a conflict with recovery) raises in the middle of the view. Such a
request is run again, once, on the primary, when that is safe:

- it is a GET or HEAD (never a POST: the replica serves none, and what a post wrote is not
  written twice);
- it committed nothing (:meth:`survey_app.db.Database.write`): a report's GET writes its audit
  event before it reads the replica for the document; run again, it would write a second one,
  so such a request fails as before;
- the exception is an ``OperationalError`` or a disconnect raised by the replica engine
  (noted by its ``handle_error`` listener; a cause or context of what the view raised counts
  too). A primary's failure, a programming error or a bug is not retried.

The breaker opens (:meth:`ReplicaBreaker.lost`: one warning line, the URL's password
hidden), the replica session is rolled back and closed, and the account the request loaded
through it is forgotten (:meth:`survey_app.db.Database.leave_replica`); then
:meth:`flask.Flask.full_dispatch_request` runs again: the ``before_request`` hooks load the
account (or the API token's) again, from the primary, with its row-security scope, and the
view reads the primary. The second run's failure, whatever it is, is the request's error as
before.

Why the whole dispatch and not only the view (Flask's ``dispatch_request``): the account
loaded by the first run is an object of the replica session, expired by its rollback and
detached by its close; the hooks that loaded it must run on the primary's session too. The
response is finalized once (``after_request`` hooks, the cookie), after the run that
succeeded; ``request_started`` is sent again (nothing here listens to it). What the first
run did outside the database before it failed (a flashed message, the browser session's
values) stays: the replica-reading GETs do neither before they read.

The wrapper replaces ``full_dispatch_request`` on the app instance, and only when a replica
is configured (no cost otherwise). It sees the exception because the app handles
``HTTPException`` only (``errors.py``): a handler for ``Exception`` would turn it into a
response first (``tests/app/test_replica_rerun.py`` would fail).

Not covered: a streamed body (the CSV export's rows) that loses the replica after the
response began; its status and headers are sent, so the download is cut short.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from flask import Flask, g, has_app_context, request
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError

from survey_app.db import REPLICA_METHODS

if TYPE_CHECKING:
    from survey_app.db import Database
    from survey_app.replica_breaker import ReplicaBreaker

#: ``g`` key: the exceptions this request's replica connections raised.
FAILURES = "db_replica_failures"


def install(app: Flask, database: Database, breaker: ReplicaBreaker) -> None:
    """Note the replica engine's connection failures and run a request they interrupt once
    more on the primary (see the module docstring)."""
    if not event.contains(breaker.engine, "handle_error", _note_failure):
        event.listen(breaker.engine, "handle_error", _note_failure)
    dispatch = app.full_dispatch_request

    @functools.wraps(dispatch)
    def full_dispatch_request() -> ResponseReturnValue:
        # g outlives a request when a test pushed an app context around several.
        g.pop(FAILURES, None)
        g.pop("db_committed", None)
        try:
            return dispatch()
        except Exception as exc:
            if not _may_run_again(exc):
                raise
            breaker.lost(exc)
            database.leave_replica()
        try:
            return dispatch()
        finally:
            g.pop("db_primary_only", None)

    app.full_dispatch_request = full_dispatch_request


def _note_failure(context: ExceptionContext) -> None:
    exc = context.sqlalchemy_exception
    if exc is None or not has_app_context():
        return
    if context.is_disconnect or isinstance(exc, OperationalError):
        g.setdefault(FAILURES, []).append(exc)


def _may_run_again(exc: BaseException) -> bool:
    if request.method not in REPLICA_METHODS or g.get("db_committed"):
        return False
    failures = g.get(FAILURES) or []
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if any(link is failure for failure in failures):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False
