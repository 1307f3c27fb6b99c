"""Evaluators' reads, the API and exports go to the read replica; writes stay on the primary.

PostgreSQL only (a SQLite app refuses a replica). The "replica" is a second database on the
same server, created in the fixture as a copy of the primary (``CREATE DATABASE ... TEMPLATE``)
and then given one campaign of its own: a page that shows that campaign read from the
replica, one that does not read from the primary. What a real streaming replica adds (lag)
is in docs/SCALE.md.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
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
    response = client.get("/evaluate/shared-2021/export/csv")
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
    client.get("/evaluate/shared-2021/export/csv").get_data()
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
