"""``db.write()``: the one write boundary of views and CLI commands.

It commits once when its block succeeds, rolls back when the block raises, and chooses
SQLite's write lock (BEGIN IMMEDIATE on the write engine, or a deferred BEGIN for a block
whose first statement writes). Run against a committed database (``live_server``): the
rolled-back ``app`` fixture cannot show a commit.
"""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import event, text
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AccessToken

REVOKE_FIRST = "UPDATE accesstoken SET revoked_at = created_at WHERE id = 1"


def _revoked(app) -> object:
    with app.app_context():
        return db.session.exec(select(AccessToken.revoked_at).where(AccessToken.id == 1)).one()


class Boom(Exception):
    pass


def test_a_block_that_succeeds_is_committed(live_server):
    app = live_server.app
    with app.app_context():
        with db.write() as session:
            session.connection().execute(text(REVOKE_FIRST))
        assert not db.session.in_transaction()
    assert _revoked(app) is not None


def test_a_block_that_raises_is_rolled_back_and_the_exception_propagates(live_server):
    app = live_server.app
    with app.app_context():
        with pytest.raises(Boom), db.write() as session:
            session.connection().execute(text(REVOKE_FIRST))
            raise Boom
        assert not db.session.in_transaction()
    assert _revoked(app) is None


def test_a_failed_block_leaves_the_next_one_usable(live_server):
    app = live_server.app
    with app.app_context():
        with pytest.raises(Boom), db.write():
            raise Boom
        with db.write() as session:
            session.connection().execute(text(REVOKE_FIRST))
    assert _revoked(app) is not None


def test_a_block_inside_a_block_is_refused(live_server):
    app = live_server.app
    with (app.app_context(), pytest.raises(RuntimeError, match="inside db.write"),
          db.write() as session):
        session.connection().execute(text(REVOKE_FIRST))
        with db.write():
            pass
    assert _revoked(app) is None  # the outer block raised: rolled back too


def _begins(app) -> list[tuple[str, str]]:
    state = app.extensions["survey_db"]
    seen: list[tuple[str, str]] = []
    for name, engine in (("read", state.read_engine), ("write", state.write_engine)):
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _k, sql, *_a, _n=name: seen.append((_n, sql)))
    return seen


@pytest.mark.parametrize("writes_first", [False, True])
def test_a_reads_first_request_writes_under_the_lock_and_reads_after_it_without(
        live_server, writes_first):
    if live_server.backend != "sqlite":
        pytest.skip("PostgreSQL has one engine")
    app = live_server.app
    state = app.extensions["survey_db"]
    seen = _begins(app)
    with app.test_request_context("/", method="POST"):
        g.db_reads_first = True
        db.session.exec(select(AccessToken.id)).first()  # the read part
        with db.write(writes_first=writes_first) as session:
            session.connection().execute(text(REVOKE_FIRST))
        assert db.session.bind is state.read_engine
        assert not g.get("db_writing")
    begins = [(engine, sql) for engine, sql in seen if sql.startswith("BEGIN")]
    expected = ("read", "BEGIN") if writes_first else ("write", "BEGIN IMMEDIATE")
    assert begins == [("read", "BEGIN"), expected]
    assert _revoked(app) is not None
