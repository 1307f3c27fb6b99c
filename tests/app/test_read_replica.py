"""Evaluators' reads, the API and exports go to the read replica; writes stay on the primary.

PostgreSQL only (a SQLite app refuses a replica). The "replica" is a second database on the
same server, created in the fixture as a copy of the primary (``CREATE DATABASE ... TEMPLATE``)
and then given one campaign of its own: a page that shows that campaign read from the
replica, one that does not read from the primary. What a real streaming replica adds (lag)
is in docs/SCALE.md.
"""

from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import Role
from survey_app.services import api_tokens, questionnaire_versions
from tests.factories import PASSWORD, make_campaign, make_user
from tests.fixtures.databases import (
    POSTGRES_URL,
    create_postgres_database,
    drop_postgres_database,
)
from tests.fixtures.settings import TEST_SETTINGS

REPLICA_ONLY = "副本独有的调查"
SHARED = "两库都有的调查"
LEAVER = "replica-leaver"  # deactivated on the primary only (a replica that has not caught up)


def _seed_primary(url: str) -> dict:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        session = db.session
        evaluator = make_user(session, Role.EVALUATOR, username="replica-evaluator")
        campaign = make_campaign(session, "shared-2021", title=SHARED)
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
        token = api_tokens.create_api_token(evaluator, session=session)
        leaver = make_user(session, Role.EVALUATOR, username=LEAVER)
        leaver_token = api_tokens.create_api_token(leaver, session=session)
        session.commit()
    db.dispose(app)
    return {"token": token, "leaver_token": leaver_token}


def _copy_database(primary: str, prefix: str) -> str:
    """A new database holding what ``primary`` holds now (nobody may be connected to it)."""
    replica = create_postgres_database(prefix)
    name = make_url(replica).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(primary).database}"'))
    admin.dispose()
    return replica


@pytest.fixture(scope="module")
def databases():
    """(primary URL, replica URL, API token); the replica holds one campaign more."""
    primary = create_postgres_database("replica_primary")
    replica = None
    try:
        upgrade(primary)
        seeded = _seed_primary(primary)
        replica = _copy_database(primary, "replica_copy")
        app = create_app({**TEST_SETTINGS, "DATABASE_URL": replica})
        with app.app_context():
            make_campaign(db.session, "replica-only-2021", title=REPLICA_ONLY)
            db.session.commit()
        db.dispose(app)
        yield primary, replica, seeded["token"], seeded["leaver_token"]
    finally:
        for url in (replica, primary):
            if url:
                drop_postgres_database(url)


@pytest.fixture
def replica_app(databases):
    primary, replica = databases[:2]
    apps = []

    def make(**settings):
        app = create_app({**TEST_SETTINGS, "DATABASE_URL": primary,
                          "DATABASE_REPLICA_URL": replica,
                          "DATABASE_REPLICA_STICKY_SECONDS": 0, **settings})
        apps.append(app)
        return app

    yield make
    for app in apps:
        db.dispose(app)


def _login(client, username: str = "replica-evaluator"):
    response = client.post("/auth/login", data={"username": username,
                                                "password": PASSWORD})
    assert response.status_code == 302
    return client


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def test_the_evaluator_page_reads_from_the_replica(replica_app):
    client = _login(replica_app().test_client())
    page = client.get("/evaluate/").get_data(as_text=True)
    assert REPLICA_ONLY in page and SHARED in page


def test_the_api_reads_from_the_replica(replica_app, databases):
    client = replica_app().test_client()
    response = client.get("/api/v1/campaigns",
                          headers={"Authorization": f"Bearer {databases[2]}"})
    assert response.status_code == 200
    assert "replica-only-2021" in {c["slug"] for c in response.get_json()["campaigns"]}


def test_without_a_replica_the_same_page_reads_the_primary(databases):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": databases[0]})
    client = _login(app.test_client())
    page = client.get("/evaluate/").get_data(as_text=True)
    db.dispose(app)
    assert SHARED in page and REPLICA_ONLY not in page


def test_an_export_reads_the_replica_and_writes_its_audit_event_on_the_primary(
        replica_app, databases):
    primary, replica = databases[:2]
    sql = "SELECT count(*) FROM auditevent WHERE action = 'export.csv'"
    before = _count(primary, sql), _count(replica, sql)
    client = _login(replica_app().test_client())
    response = client.get("/evaluate/shared-2021/export/csv",
                          headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200
    response.get_data()  # the body streams from the replica after the audited write
    assert (_count(primary, sql), _count(replica, sql)) == (before[0] + 1, before[1])


def test_a_post_never_reads_from_the_replica(replica_app):
    client = _login(replica_app().test_client())
    response = client.post("/evaluate/replica-only-2021/indicator-notes",
                           data={"deviation_note": "", "first_level": ""})
    assert response.status_code == 404  # looked up on the primary, which lacks it


def test_after_a_write_the_browser_session_reads_the_primary_for_a_while(replica_app):
    client = _login(replica_app(DATABASE_REPLICA_STICKY_SECONDS=60).test_client())
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)
    # The export commits its audit event: the next pages must not show a replica behind it.
    client.get("/evaluate/shared-2021/export/csv",
               headers={"Sec-Fetch-Site": "same-origin"}).get_data()
    page = client.get("/evaluate/").get_data(as_text=True)
    assert SHARED in page and REPLICA_ONLY not in page
    with client.session_transaction() as browser:
        browser["_db_primary_until"] = 0  # the minute has passed
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)


@pytest.mark.parametrize(("path", "method", "on_replica"), [
    ("/evaluate/", "GET", True), ("/api/v1/campaigns", "GET", True),
    ("/evaluate/x/indicator-notes", "POST", False), ("/admin/", "GET", False),
    ("/entry/", "GET", False), ("/auth/login", "GET", False),
    # a job's progress and file: just written, polled; never from a lagging replica
    ("/api/v1/jobs/1", "GET", False), ("/api/v1/jobs/1/download", "GET", False),
    ("/evaluate/jobs/1", "GET", False),
])
def test_only_the_registered_blueprints_read_gets_from_the_replica(replica_app, path, method,
                                                                   on_replica):
    app = replica_app()
    with app.test_request_context(path, method=method):
        assert db.on_replica is on_replica


def _on_primary(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def test_an_account_deactivated_on_the_primary_is_refused_on_a_lagging_replica(
        replica_app, databases):
    primary = databases[0]
    app = replica_app()
    client = _login(app.test_client(), LEAVER)
    headers = {"Authorization": f"Bearer {databases[3]}"}
    assert client.get("/evaluate/").status_code == 200
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    # The replica (a copy taken before) still holds the account as active, its token live.
    _on_primary(primary, f"UPDATE apitoken SET revoked_at = now() WHERE user_id = "
                         f"(SELECT id FROM app_user WHERE username = '{LEAVER}')")
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 401
    _on_primary(primary, f"UPDATE app_user SET active = false WHERE username = '{LEAVER}'")
    response = client.get("/evaluate/")
    assert response.status_code in (302, 401)  # to the login page, not the replica's pages
    assert REPLICA_ONLY not in response.get_data(as_text=True)


def test_a_replica_needs_postgresql(tmp_path):
    from survey_app.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="a read replica needs PostgreSQL"):
        create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                    "DATABASE_REPLICA_URL": "postgresql+psycopg://postgres@127.0.0.1/x"})


# --- A replica that does not answer (survey_app.replica_breaker) ---------------------------

BREAKER_LOG = "survey_app.replica_breaker"


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def down_replica(replica_app, databases):
    """(app, clock, attempts, bring_back): the replica's URL names a closed port (with a
    password that must never be logged); ``bring_back()`` makes that URL reach the replica
    database, as a restarted server would; ``clock[0]`` is the breaker's time."""
    app = replica_app(DATABASE_REPLICA_URL=f"postgresql+psycopg://postgres:s3cret@127.0.0.1:"
                                           f"{_closed_port()}/nowhere",
                      DATABASE_REPLICA_RETRY_SECONDS=30)
    breaker = db.replica_breaker(app)
    clock = [1000.0]
    breaker.clock = lambda: clock[0]
    attempts = []
    back = []
    target = make_url(databases[1])

    @event.listens_for(breaker.engine, "do_connect")
    def _connect(_dialect, _record, _cargs, cparams):
        attempts.append(cparams.get("port"))
        if back:
            cparams.update(port=target.port or 5432, dbname=target.database, password="")

    return app, clock, attempts, lambda: back.append(True)


def _warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == BREAKER_LOG and r.levelno == logging.WARNING]


def test_a_replica_that_refuses_connections_sends_reads_to_the_primary(
        down_replica, databases, caplog):
    app, clock, attempts, _ = down_replica
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = _login(app.test_client())
    page = client.get("/evaluate/")
    assert page.status_code == 200
    assert SHARED in page.get_data(as_text=True)
    assert REPLICA_ONLY not in page.get_data(as_text=True)  # the primary's page
    api = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {databases[2]}"})
    assert api.status_code == 200
    assert {c["slug"] for c in api.get_json()["campaigns"]} >= {"shared-2021"}
    assert "replica-only-2021" not in {c["slug"] for c in api.get_json()["campaigns"]}
    (warning,) = _warnings(caplog)  # one line for both requests: the breaker was open
    assert len(attempts) == 1
    message = warning.getMessage()
    assert "s3cret" not in message and "postgres:***@127.0.0.1" in message
    assert "cannot be reached" in message and "30 s" in message
    assert warning.exc_info is None  # no traceback
    clock[0] += 29
    assert client.get("/evaluate/").status_code == 200
    assert len(attempts) == 1  # still inside the window: not tried
    clock[0] += 2
    assert client.get("/evaluate/").status_code == 200
    assert len(attempts) == 2 and len(_warnings(caplog)) == 2  # tried again, still down


def test_after_the_window_a_replica_that_answers_again_serves_again(down_replica, caplog):
    app, clock, attempts, bring_back = down_replica
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = _login(app.test_client())
    assert REPLICA_ONLY not in client.get("/evaluate/").get_data(as_text=True)
    bring_back()
    assert REPLICA_ONLY not in client.get("/evaluate/").get_data(as_text=True)  # window open
    clock[0] += 31
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)
    assert len(_warnings(caplog)) == 1
    assert any("answers again" in r.getMessage() for r in caplog.records
               if r.name == BREAKER_LOG and r.levelno == logging.INFO)


@pytest.mark.parametrize("replica_down", [False, True])
def test_the_row_security_scope_is_set_on_the_engine_that_serves(down_replica, replica_app,
                                                                 replica_down):
    app = down_replica[0] if replica_down else replica_app()
    with app.test_request_context("/evaluate/"):
        app.preprocess_request()  # an anonymous request acts for every unit
        assert db.on_replica is not replica_down
        setting = db.session.execute(
            text("SELECT current_setting('survey.unit_path', true)")).scalar_one()
        assert setting == "*"


@pytest.mark.parametrize(("lag", "on_replica"), [(5, True), (120, False)])
def test_a_replica_lagging_beyond_the_limit_sends_reads_to_the_primary(
        replica_app, monkeypatch, caplog, lag, on_replica):
    from survey_app import replica_breaker

    # The test "replica" is no standby (its lag query answers 0): the answer is stood in for.
    monkeypatch.setattr(replica_breaker, "_LAG", text(f"SELECT {lag}"))
    app = replica_app(DATABASE_REPLICA_MAX_LAG_SECONDS=60)
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = _login(app.test_client())
    page = client.get("/evaluate/")
    assert page.status_code == 200
    assert (REPLICA_ONLY in page.get_data(as_text=True)) is on_replica
    assert [r.getMessage() for r in _warnings(caplog)] == ([] if on_replica else [
        f"Read replica {make_url(app.config['DATABASE_REPLICA_URL']).render_as_string()} "
        f"is 120 s behind the primary (limit 60 s): its reads go to the primary; trying "
        f"it again in 30 s"])


def test_the_lag_query_answers_zero_on_a_server_that_is_no_standby(databases):
    from survey_app.replica_breaker import _LAG

    engine = create_engine(databases[1])
    with engine.connect() as conn:
        assert float(conn.execute(_LAG).scalar_one()) == 0.0
    engine.dispose()


def _drop_connections(url: str) -> None:
    _on_primary(POSTGRES_URL, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              f"WHERE datname = '{make_url(url).database}'")


def test_a_replica_that_dropped_its_pooled_connections_serves_on_new_ones(
        replica_app, databases, caplog):
    """A replica restarted a moment ago: its pooled connections are dead though used just
    now (the primary's idle ping would not test them); the replica engine pings each
    checkout, so the request reconnects and reads the replica, nothing logged."""
    app = replica_app(DATABASE_PING_IDLE_SECONDS=3600)
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = _login(app.test_client())
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)
    _drop_connections(databases[1])
    page = client.get("/evaluate/")
    assert page.status_code == 200
    assert REPLICA_ONLY in page.get_data(as_text=True)
    assert _warnings(caplog) == []


def test_a_replica_gone_after_its_connections_were_pooled_sends_reads_to_the_primary(
        replica_app, databases, caplog):
    app = replica_app()
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = _login(app.test_client())
    assert REPLICA_ONLY in client.get("/evaluate/").get_data(as_text=True)
    _drop_connections(databases[1])
    engine = db.replica_breaker(app).engine
    event.listen(engine, "do_connect", _refuse)  # and it refuses new ones (stopped)
    page = client.get("/evaluate/")
    assert page.status_code == 200
    assert SHARED in page.get_data(as_text=True)
    assert REPLICA_ONLY not in page.get_data(as_text=True)
    assert len(_warnings(caplog)) == 1


def _refuse(_dialect, _record, _cargs, cparams):
    cparams.update(port=_closed_port())
