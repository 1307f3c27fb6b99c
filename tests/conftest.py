"""Fixtures shared by every test.

Database tests run once on SQLite and once on PostgreSQL: the ``database_url``
fixture is parametrised over both backends. Each test runs inside a transaction
that is rolled back afterwards (views that commit only release a savepoint).

PostgreSQL comes from ``SURVEY_TEST_POSTGRES_URL`` (default: the local server,
database ``test``); each test run creates and drops its own database on it. When it
is unreachable, PostgreSQL tests are skipped, except with ``CI=true``, where an
unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey_app import create_app
from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "SURVEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")

TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PII_KEY": "test-pii-key",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "PUBLIC_BASE_URL": "http://survey.test",
    # Cheap scrypt: hashing cost is not under test here, and hundreds of logins are.
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
}


def _postgres_or_skip() -> None:
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")


def create_postgres_database(prefix: str) -> str:
    """Create an empty PostgreSQL database for this run and return its URL."""
    _postgres_or_skip()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def migrated_database(backend: str, directory: Path, prefix: str) -> Iterator[str]:
    """A new database of ``backend`` at Alembic head; dropped afterwards on PostgreSQL."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / f'{prefix}.db'}"
        upgrade(url)
        yield url
        return
    url = create_postgres_database(prefix)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database of each backend, shared by the session."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db"), "survey_test") as url:
        yield url


@pytest.fixture(scope="session")
def _engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def load_demo_into(url: str) -> None:
    """Commit the Heshan 2021 demo campaign into the migrated database at ``url``."""
    from survey_app.services import demo

    loader = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with loader.app_context():
        demo.load_demo(session=db.session, example_links=0)
        db.session.commit()
    db.dispose(loader)


@pytest.fixture(scope="session")
def _demo_engine(database_url, tmp_path_factory):
    """A second database of the same backend holding the committed Heshan 2021 demo.

    Loaded once per test session; tests marked ``demo_data`` run against it, each in
    its own rolled-back transaction like every other test.
    """
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with migrated_database(backend, tmp_path_factory.mktemp("demo"), "survey_demo") as url:
        load_demo_into(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def _connection(request, _engine):
    if request.node.get_closest_marker("demo_data"):
        _engine = request.getfixturevalue("_demo_engine")
    connection = _engine.connect()
    transaction = connection.begin()
    yield connection
    if transaction.is_active:
        transaction.rollback()
    connection.close()


def _forget_request_caches() -> None:
    from flask import g

    g.pop("_login_user", None)
    g.pop("_flask_babel", None)


@pytest.fixture
def make_app(_connection):
    """Build an app with extra settings, bound to the test's rolled-back transaction."""
    built = []

    # The connection's database: the empty test database, or the demo one.
    url = _connection.engine.url.render_as_string(hide_password=False)

    def factory(**overrides):
        application = create_app({**TEST_SETTINGS, "DATABASE_URL": url, **overrides})
        db.bind_to(application, _connection)
        # The ``session`` fixture keeps one app context pushed, so requests share ``g``:
        # forget the cached user and locale so each request reads its own cookies.
        application.before_request(_forget_request_caches)
        built.append(application)
        return application

    yield factory
    for application in built:
        db.dispose(application)


@pytest.fixture
def app(make_app):
    """The app bound to a transaction that is rolled back after the test."""
    return make_app()


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request, tmp_path) -> Iterator[str]:
    """A new migrated database of each backend whose commits are real (not rolled back).

    For tests of concurrency, crashes and backups, which need several connections to see
    each other's committed data.
    """
    with migrated_database(request.param, tmp_path, "survey_fresh") as url:
        yield url


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on each database, so a green run shows PostgreSQL ran."""
    counts = {backend: {"passed": 0, "failed": 0, "skipped": 0} for backend in BACKENDS}
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for backend in BACKENDS:
                if f"[{backend}" in nodeid or f"-{backend}]" in nodeid or f"-{backend}-" in nodeid:
                    counts[backend][outcome] += 1
    terminalreporter.write_sep("-", "database backends")
    for backend, c in counts.items():
        terminalreporter.write_line(f"on {backend}: {c['passed']} tests passed; "
                                    f"{c['failed']} failed; {c['skipped']} skipped")
