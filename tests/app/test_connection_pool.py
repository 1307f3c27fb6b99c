"""PostgreSQL connections are tested before use only after sitting idle (survey_app.db).

A backend is killed with ``pg_terminate_backend`` from a second connection, as a database
restart or a firewall's idle timeout would drop it. SQLite has no server connection to lose.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from survey_app.db import make_engine


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to lose")
    return database_url


def _backend_pid(engine) -> int:
    with engine.connect() as connection:  # checked in again at the end of the block
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(url: str, pid: int) -> None:
    killer = make_engine(url)
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        # Wait until the server has really closed it.
        for _ in range(100):
            alive = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid},
            ).scalar_one()
            if not alive:
                break
            time.sleep(0.02)
    killer.dispose()


@pytest.fixture
def pooled(postgres_url):
    """An engine with the given ping_idle_seconds, its pooled connection's backend killed."""
    engines = []

    def make(ping_idle_seconds: float):
        engine = make_engine(postgres_url, ping_idle_seconds=ping_idle_seconds)
        engines.append(engine)
        pid = _backend_pid(engine)
        _terminate(postgres_url, pid)
        return engine, pid

    yield make
    for engine in engines:
        engine.dispose()


def test_a_connection_lost_while_idle_is_replaced_before_use(pooled):
    engine, pid = pooled(ping_idle_seconds=0.2)
    time.sleep(0.3)  # idle longer than ping_idle_seconds: the checkout tests it
    assert _backend_pid(engine) != pid


def test_a_connection_lost_moments_after_use_fails_the_request_that_takes_it(pooled):
    # The documented price of not pinging every checkout; the next checkout connects anew.
    engine, pid = pooled(ping_idle_seconds=60)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _backend_pid(engine) != pid


def test_the_idle_threshold_is_a_setting(postgres_url):
    from survey_app import create_app
    from survey_app.extensions import db
    from tests.fixtures.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": postgres_url,
                      "DATABASE_PING_IDLE_SECONDS": 0})
    try:
        with app.app_context():
            engine = db.engine
        pid = _backend_pid(engine)
        _terminate(postgres_url, pid)
        assert _backend_pid(engine) != pid  # tested at once (0 s idle suffices), replaced
    finally:
        db.dispose(app)
