"""The resident's survey post holds SQLite's write lock only for its writes.

SQLite has one write lock per database; a writer that finds it taken sleeps in the busy
handler. The survey views are ``db.reads_first``: link resolution and validation run on the
read engine, and ``db.begin_write`` opens the IMMEDIATE transaction just before the service
that writes. These tests record the statements each engine runs against a committed
database (the rolled-back ``app`` fixture shares one connection and cannot show this).
PostgreSQL has no database-wide write lock and runs both parts on its one engine.
"""

from __future__ import annotations

import http.client
import uuid
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AccessToken, Response
from tests.public.conftest import RELOCATED_ANSWERS, form_data


@contextmanager
def _recorded(app):
    """Statements run by the app's read and write engines, as (engine, SQL) in order."""
    state = app.extensions["survey_db"]
    seen: list[tuple[str, str]] = []
    listeners = []
    for name, engine in (("read", state.read_engine), ("write", state.write_engine)):
        def listener(_conn, _cursor, statement, *_args, _name=name):
            seen.append((_name, " ".join(statement.split())))
        event.listen(engine, "before_cursor_execute", listener)
        listeners.append((engine, listener))
    try:
        yield seen
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)


def _sqlite_only(live_server) -> None:
    if live_server.backend != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database: one engine serves both parts")


def _post(live_server, path: str, body: dict):
    client = live_server.app.test_client()
    return client.post(path, data=body)


def _post_over_http(live_server, path: str, body: dict) -> int:
    # Through the live server's own thread: its request has its own app context and session.
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("POST", path, urlencode(body),
                       {"Content-Type": "application/x-www-form-urlencoded"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_open_link_submit_takes_the_write_lock_at_the_insert(live_server):
    _sqlite_only(live_server)
    slug = live_server.data.campaign.slug
    with _recorded(live_server.app) as seen:
        reply = _post(live_server, f"/c/{slug}/relocated",
                      form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    writes = [sql for engine, sql in seen if engine == "write"]
    assert writes[0] == "BEGIN IMMEDIATE"
    assert writes[1].startswith("INSERT INTO response ")
    assert not any(sql.startswith("SELECT") for sql in writes)
    reads = [sql for engine, sql in seen if engine == "read"]
    assert any("FROM campaign" in sql for sql in reads)  # the link was resolved before


def test_token_submit_rechecks_the_token_inside_the_write_transaction(live_server):
    _sqlite_only(live_server)
    token = live_server.data.token()
    with _recorded(live_server.app) as seen:
        reply = _post(live_server, f"/s/{token}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    writes = [sql for engine, sql in seen if engine == "write"]
    assert writes[0] == "BEGIN IMMEDIATE"
    assert "FROM accesstoken" in writes[1]  # the used-token check is repeated under the lock
    assert any(sql.startswith("UPDATE accesstoken") for sql in writes)


def test_token_used_between_the_read_and_the_write_is_refused(live_server):
    # Another request completes the token after this one resolved it (on SQLite's read
    # engine): the check under the write lock sees it, and this post stores nothing.
    token = live_server.data.token()
    app = live_server.app
    state = app.extensions["survey_db"]
    other = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))
    # The moment between the two parts: SQLite's BEGIN IMMEDIATE, PostgreSQL's row lock.
    if live_server.backend == "sqlite":
        def at_the_write(sql):
            return sql.startswith("BEGIN IMMEDIATE")
    else:
        def at_the_write(sql):
            return "FROM accesstoken" in sql and "FOR UPDATE" in sql
    fired: list[bool] = []

    def complete_meanwhile(_conn, _cursor, statement, *_args):
        if at_the_write(statement) and not fired:
            fired.append(True)
            assert _post_over_http(live_server, f"/s/{token}", other) == 302

    # The second client is the live server's thread, on its own connection.
    event.listen(state.write_engine, "before_cursor_execute", complete_meanwhile)
    try:
        reply = _post(live_server, f"/s/{token}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    finally:
        event.remove(state.write_engine, "before_cursor_execute", complete_meanwhile)
    assert fired
    assert reply.status_code == 200  # the "already answered" page
    with app.app_context():
        assert db.session.exec(select(func.count()).select_from(Response)).one() == 1
        used = db.session.exec(select(AccessToken).where(AccessToken.used_at.is_not(None))).all()
    assert len(used) == 1


def test_begin_write_refuses_changes_made_on_the_read_engine(live_server):
    _sqlite_only(live_server)
    app = live_server.app
    with app.test_request_context("/", method="POST"):
        from flask import g

        g.db_reads_first = True
        token = db.session.exec(select(AccessToken)).first()
        token.used_at = token.created_at
        db.session.add(token)
        with pytest.raises(RuntimeError, match="begin_write"):
            db.begin_write()
