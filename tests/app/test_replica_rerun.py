"""A GET that loses the read replica in the middle runs once more on the primary
(survey_app.replica_rerun).

PostgreSQL only, on the two databases of tests/app/test_read_replica.py (the "replica" holds
one campaign more than the primary). The replica's connection is lost for real: its server
process is terminated (``pg_terminate_backend``, waiting until it is gone) from another
connection at the moment the request reads.
"""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from survey_app import create_app
from survey_app.extensions import db
from tests.app import test_read_replica
from tests.app.test_read_replica import _count, _login, _warnings
from tests.fixtures.databases import POSTGRES_URL
from tests.fixtures.settings import TEST_SETTINGS

BREAKER_LOG = "survey_app.replica_breaker"
PASSWORD = "s3cret"  # trust authentication ignores it; the log must not show it
# The two databases and the app factory of the replica tests.
databases = test_read_replica.databases
replica_app = test_read_replica.replica_app


def _terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # The timeout: return only once the process has ended, so the next statement fails.
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                            {"pid": pid}).scalar_one()
    admin.dispose()


def _pid(connection) -> int:
    return connection.connection.dbapi_connection.info.backend_pid


def _kill_before(engine, pattern: str) -> list[str]:
    """Terminate ``engine``'s connection just before its first statement matching
    ``pattern``; returns the list that then holds that statement."""
    killed: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _kill(conn, _cursor, statement, _parameters, _context, _executemany):
        if not killed and re.search(pattern, statement):
            killed.append(statement)
            _terminate(_pid(conn))

    return killed


def _with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def _from_primary(primary: str, path: str, headers: dict) -> tuple[int, bytes]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": primary})
    client = app.test_client()
    if not headers:
        _login(client)
    response = client.get(path, headers=headers)
    body = _same(response.get_data())
    db.dispose(app)
    return response.status_code, body


def _same(body: bytes) -> bytes:
    """The body less its form's CSRF token (each browser session has its own)."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', body)


@pytest.mark.parametrize("path", ["/evaluate/", "/api/v1/campaigns"])
def test_a_replica_lost_while_the_view_reads_answers_from_the_primary(
        replica_app, databases, caplog, path):
    primary, replica, token = databases[:3]
    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
    expected = _from_primary(primary, path, headers)
    app = replica_app(DATABASE_REPLICA_URL=_with_password(replica),
                      DATABASE_REPLICA_RETRY_SECONDS=30)
    client = app.test_client()
    if not headers:
        _login(client)
    breaker = db.replica_breaker(app)
    # Every page and document of these lists reads the campaigns after the account.
    killed = _kill_before(breaker.engine, r"\bFROM campaign\b")
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    response = client.get(path, headers=headers)
    assert killed  # the replica did fail in the middle of the request
    assert (response.status_code, _same(response.get_data())) == expected
    body = response.get_data(as_text=True)
    assert "shared-2021" in body and "replica-only-2021" not in body  # the primary's
    assert breaker.is_open
    (warning,) = _warnings(caplog)
    message = warning.getMessage()
    assert "failed during a request" in message and "runs again on the primary" in message
    assert PASSWORD not in message and "postgres:***@" in message
    assert warning.exc_info is None
    # The breaker is open: the next request does not try the replica.
    assert _same(client.get(path, headers=headers).get_data()) == expected[1]
    assert len(_warnings(caplog)) == 1


def test_an_export_that_loses_the_replica_before_its_audit_event_writes_it_once(
        replica_app, databases, caplog):
    primary, replica = databases[:2]
    sql = "SELECT count(*) FROM auditevent WHERE action = 'export.csv'"
    before = _count(primary, sql), _count(replica, sql)
    app = replica_app(DATABASE_REPLICA_RETRY_SECONDS=30)
    client = _login(app.test_client())
    # The campaign is looked up (replica) before the audit event is written (primary).
    killed = _kill_before(db.replica_breaker(app).engine, r"\bFROM campaign\b")
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    response = client.get("/evaluate/shared-2021/export/csv",
                          headers={"Sec-Fetch-Site": "same-origin"})
    assert killed and response.status_code == 200
    response.get_data()
    assert (_count(primary, sql), _count(replica, sql)) == (before[0] + 1, before[1])
    assert db.replica_breaker(app).is_open and len(_warnings(caplog)) == 1


@pytest.fixture
def probe(replica_app):
    """(app, runs, configure): ``GET|POST|HEAD /evaluate/_probe`` on a replica-reading
    blueprint; each run appends whether its session read the replica, may commit a write
    first, then loses a connection of the replica (or of the primary) in its first
    ``failures`` runs (engine "bug": reads a column that does not exist, on the replica)."""
    app = replica_app(PROPAGATE_EXCEPTIONS=False, DATABASE_REPLICA_RETRY_SECONDS=30)
    runs: list[bool] = []
    how = {"engine": "replica", "failures": 1, "write": False}

    def view():
        runs.append(db.on_replica)
        if how["write"]:
            with db.write() as session:
                session.execute(text("SELECT 1"))
        if len(runs) <= how["failures"] and how["engine"] == "bug":
            db.session.execute(text("SELECT no_such_column"))  # on the replica
        if len(runs) <= how["failures"]:
            engine = db.replica_breaker(app).engine if how["engine"] == "replica" \
                else db.engine
            with engine.connect() as conn:
                _terminate(_pid(conn))
                conn.execute(text("SELECT 1"))
        return "ok"

    app.add_url_rule("/evaluate/_probe", endpoint="evaluate._probe", view_func=view,
                     methods=["GET", "POST"])
    return app, runs, how.update


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_get_or_head_runs_once_more_on_the_primary(probe, caplog, method):
    app, runs, configure = probe
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    response = app.test_client().open("/evaluate/_probe", method=method)
    assert response.status_code == 200
    assert runs == [True, False]  # first on the replica, then on the primary
    assert db.replica_breaker(app).is_open
    assert len(_warnings(caplog)) == 1


def test_a_second_failure_is_the_request_error(probe, caplog):
    app, runs, configure = probe
    configure(failures=2)
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    assert app.test_client().get("/evaluate/_probe").status_code == 500
    assert runs == [True, False]  # once again, not more
    assert len(_warnings(caplog)) == 1


def test_a_post_is_never_run_again(probe, caplog):
    app, runs, configure = probe
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    assert app.test_client().post("/evaluate/_probe").status_code == 500
    assert runs == [False]
    assert not db.replica_breaker(app).is_open and _warnings(caplog) == []


def test_a_get_that_committed_a_write_is_not_run_again(probe, caplog):
    """A report's GET writes its audit event before it reads the document on the replica:
    run again, it would write a second one."""
    app, runs, configure = probe
    configure(write=True)
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    assert app.test_client().get("/evaluate/_probe").status_code == 500
    assert runs == [True]
    assert _warnings(caplog) == []


@pytest.mark.parametrize("failing", ["primary", "bug"])
def test_a_failure_on_the_primary_or_a_bug_is_the_usual_error_page(probe, caplog, failing):
    app, runs, configure = probe
    configure(engine=failing)
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    response = app.test_client().get("/evaluate/_probe")
    assert response.status_code == 500
    assert "<html" in response.get_data(as_text=True).lower()  # the site's error page
    assert runs == [True]
    assert not db.replica_breaker(app).is_open and _warnings(caplog) == []
