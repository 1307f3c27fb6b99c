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
from sqlalchemy import event, func, text
from sqlmodel import select

from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.models import AccessToken, Response
from survey_app.services.questionnaire_versions import register_questionnaire
from tests.factories import login, make_user
from tests.public.conftest import RELOCATED_ANSWERS, form_data, relocated_variant


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


def _last_transaction(seen: list[tuple[str, str]]) -> list[str]:
    """The statements of the last transaction begun, from its BEGIN."""
    statements = [sql for _engine, sql in seen]
    begun = [i for i, sql in enumerate(statements) if sql.startswith("BEGIN")]
    return statements[begun[-1]:]


def test_open_link_submit_takes_the_write_lock_at_the_insert(live_server):
    # An open link's write transaction begins deferred (db.begin_write(writes_first=True)):
    # its first statement, the response insert, takes the lock, so the lock is not held
    # while the insert is prepared. A token post reads its token first: BEGIN IMMEDIATE.
    _sqlite_only(live_server)
    slug = live_server.data.campaign.slug
    with _recorded(live_server.app) as seen:
        reply = _post(live_server, f"/c/{slug}/relocated",
                      form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    assert "JOIN campaignquestionnaire" in seen[1][1]  # resolved first (nothing remembered)
    writes = _last_transaction(seen)
    assert writes[0] == "BEGIN"
    # The insert itself checks that the campaign still takes answers (closed meanwhile?)
    # to this questionnaire (replaced meanwhile?).
    assert writes[1].startswith("INSERT INTO response ")
    assert "EXISTS (SELECT * FROM campaign WHERE" in writes[1]
    assert "EXISTS (SELECT * FROM campaignquestionnaire, questionnaireversion" in writes[1]
    assert not any(sql.startswith("SELECT") for sql in writes)
    assert not any(sql == "BEGIN IMMEDIATE" for _engine, sql in seen)


def test_an_open_link_post_after_its_form_reads_nothing_before_the_lock(live_server):
    # The form's GET remembered the link (OpenLinks): the post has no read transaction.
    _sqlite_only(live_server)
    path = f"/c/{live_server.data.campaign.slug}/relocated?unverified=1"
    client = live_server.app.test_client()
    assert client.get(path).status_code == 200
    with _recorded(live_server.app) as seen:
        reply = client.post(path, data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    assert seen[0][1] == "BEGIN"
    assert seen[1][1].startswith("INSERT INTO response ")


def test_token_submit_rechecks_the_token_inside_the_write_transaction(live_server):
    _sqlite_only(live_server)
    token = live_server.data.token()
    with _recorded(live_server.app) as seen:
        reply = _post(live_server, f"/s/{token}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    writes = [sql for engine, sql in seen if engine == "write"]
    assert writes[0] == "BEGIN IMMEDIATE"
    # The household's row first (the order of every channel), then the used-token check is
    # repeated under the lock.
    assert "FROM household" in writes[1]
    assert "FROM accesstoken" in writes[2]
    assert any(sql.startswith("UPDATE accesstoken") for sql in writes)


@contextmanager
def _meanwhile(live_server, change):
    """Run ``change()`` once, between a post's read part and its writes.

    The moment: the statement that begins the post's write transaction and checks the link
    again: the token's row lock (on SQLite the BEGIN IMMEDIATE before it) or the open
    link's response insert (its transaction's first statement). ``change`` runs on its own
    connection, so it commits before the post's transaction reads.
    """
    state = live_server.app.extensions["survey_db"]

    def at_the_write(sql):
        return sql.startswith(("BEGIN IMMEDIATE", "INSERT INTO response", "WITH new_response")
                              ) or "FOR UPDATE" in sql
    fired: list[bool] = []

    def listener(_conn, _cursor, statement, *_args):
        if at_the_write(statement) and not fired:
            fired.append(True)
            change()

    engines = {state.write_engine, state.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)
    assert fired


def _execute_elsewhere(live_server, statement: str) -> None:
    engine = make_engine(live_server.app.config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _stored_count(live_server) -> int:
    with live_server.app.app_context():
        return db.session.exec(select(func.count()).select_from(Response)).one()


def test_token_used_between_the_read_and_the_write_is_refused(live_server):
    # Another request completes the token after this one resolved it: the check under the
    # write lock sees it, and this post stores nothing.
    token = live_server.data.token()
    other = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))
    # The second client is the live server's thread, on its own connection.
    with _meanwhile(live_server,
                    lambda: _post_over_http(live_server, f"/s/{token}", other) == 302):
        reply = _post(live_server, f"/s/{token}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 200  # the "already answered" page
    assert _stored_count(live_server) == 1
    with live_server.app.app_context():
        used = db.session.exec(select(AccessToken).where(AccessToken.used_at.is_not(None))).all()
    assert len(used) == 1


def test_token_revoked_between_the_read_and_the_write_is_refused(live_server):
    token = live_server.data.token()
    with _meanwhile(live_server, lambda: _execute_elsewhere(
            live_server, "UPDATE accesstoken SET revoked_at = created_at")):
        reply = _post(live_server, f"/s/{token}", form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 410  # the "link withdrawn" page
    assert _stored_count(live_server) == 0


@pytest.mark.parametrize("link", ["token", "open", "open, remembered"])
@pytest.mark.parametrize("closing", ["status = 'closed'", "closes_on = '2021-01-01'"])
def test_campaign_closed_between_the_read_and_the_write_is_refused(live_server, link, closing):
    path = (f"/s/{live_server.data.token()}" if link == "token"
            else f"/c/{live_server.data.campaign.slug}/relocated?unverified=1")
    if link == "open, remembered":  # the form was loaded: the post reads nothing first
        assert live_server.app.test_client().get(path).status_code == 200
    with _meanwhile(live_server, lambda: _execute_elsewhere(
            live_server, f"UPDATE campaign SET {closing}")):
        reply = _post(live_server, path, form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 404  # the "not available" page of closed and unknown links
    assert _stored_count(live_server) == 0


def test_a_draft_saved_then_completed_writes_on_the_write_engine(live_server):
    _sqlite_only(live_server)
    token = live_server.data.token()
    with _recorded(live_server.app) as seen:
        saved = _post(live_server, f"/s/{token}", {"instance_id": str(uuid.uuid4()),
                                                  "save": "暂存", "a_benefit_standard": "2"})
        completed = _post(live_server, f"/s/{token}",
                          form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert (saved.status_code, completed.status_code) == (302, 302)
    writes = [sql for engine, sql in seen if engine == "write"]
    assert writes.count("BEGIN IMMEDIATE") == 2
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE"))
                   for engine, sql in seen if engine == "read")
    with live_server.app.app_context():
        [response] = db.session.exec(select(Response)).all()
    assert response.status == "complete"


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


def test_a_write_under_way_is_neither_committed_by_begin_write_nor_left_by_end_write(
        live_server):
    # A deferred write (writes_first) stays on the read engine: without the "writing" state
    # a second begin_write would commit its half-done write, and end_write would not check.
    _sqlite_only(live_server)
    app = live_server.app
    with app.test_request_context("/", method="POST"):
        from flask import g

        g.db_reads_first = True
        session = db.begin_write(writes_first=True)
        session.connection().execute(text(
            "UPDATE accesstoken SET revoked_at = created_at WHERE id = 1"))
        assert db.begin_write() is session and session.in_transaction()
        with pytest.raises(RuntimeError, match="end_write"):
            db.end_write()
        session.rollback()
        db.end_write()
        assert db.begin_write().bind is app.extensions["survey_db"].write_engine
        session.rollback()
    with app.app_context():
        assert db.session.exec(select(AccessToken.revoked_at).where(AccessToken.id == 1)
                               ).one() is None


def test_an_export_writes_its_audit_event_under_the_lock_and_streams_without_it(live_server):
    # A GET that writes one thing: the audit event goes through the write engine (a
    # deferred read transaction could not upgrade once a submission committed meanwhile),
    # the rows stream from the read engine.
    _sqlite_only(live_server)
    app = live_server.app
    with app.app_context():
        evaluator = make_user(db.session)
        db.session.commit()
    client = app.test_client()
    assert login(client, evaluator).status_code == 302
    assert _post(live_server, f"/c/{live_server.data.campaign.slug}/relocated",
                 form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))).status_code == 302
    with _recorded(app) as seen:
        # The open-link answer identified no household: it is exported when included.
        reply = client.get(f"/evaluate/{live_server.data.campaign.slug}/export/csv"
                           "?include_unverified=y", headers={"Sec-Fetch-Site": "same-origin"})
        body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and body.count("\n") >= 2
    writes = [sql for engine, sql in seen if engine == "write"]
    assert writes[0] == "BEGIN IMMEDIATE" and writes[1].startswith("INSERT INTO auditevent")
    # Then only the audit chain: the export's snapshot as a second event, and its seals.
    assert [sql.split()[2] for sql in writes if sql.startswith("INSERT")] == [
        "auditevent", "auditevent", "auditseal"], writes
    assert not any(sql.startswith(("UPDATE", "DELETE")) for sql in writes)
    reads = [sql for engine, sql in seen if engine == "read"]
    assert any("FROM answer" in sql for sql in reads)  # the rows came from the read engine
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in reads)


@pytest.mark.parametrize("link", ["token", "open", "open, remembered"])
def test_a_questionnaire_replaced_between_the_read_and_the_write_checks_the_answers_again(
        live_server, link):
    # The group has no responses yet, so its questionnaire may still be replaced: the post
    # is then handled again, its answers checked against the new questionnaire.
    with live_server.app.app_context():
        stricter = register_questionnaire(
            relocated_variant(household_size={"max": 2}), session=db.session).id
        db.session.commit()
    path = (f"/s/{live_server.data.token()}" if link == "token"
            else f"/c/{live_server.data.campaign.slug}/relocated?unverified=1")
    if link == "open, remembered":
        assert live_server.app.test_client().get(path).status_code == 200
    replace = f"UPDATE campaignquestionnaire SET questionnaire_version_id = {stricter} " \
              "WHERE household_group = 'relocated'"
    with _meanwhile(live_server, lambda: _execute_elsewhere(live_server, replace)):
        reply = _post(live_server, path, form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 422  # household_size 3 is too many now; answers kept
    assert ">希望加快进度</textarea>" in reply.get_data(as_text=True)
    assert _stored_count(live_server) == 0
    answers = form_data({**RELOCATED_ANSWERS, "household_size": "2"}, str(uuid.uuid4()))
    assert _post(live_server, path, answers).status_code == 302
    with live_server.app.app_context():
        [response] = db.session.exec(select(Response)).all()
    assert response.questionnaire_version_id == stricter
