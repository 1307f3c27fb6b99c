"""Short versions of the load and crash runs (the long ones: benchmarks/load_ledger.py).

Against gunicorn with 4 workers on SQLite (WAL) and PostgreSQL: every acknowledged
submission is stored exactly once, no 5xx, no "database is locked"; after SIGKILLs of
the whole process group, every acknowledged response is still there and intact.
"""

import random
import threading
import time

import pytest
from sqlmodel import Session, select

from survey_app.db import make_engine
from survey_app.models import Response
from tests.reliability.harness import (
    GunicornServer,
    Ledger,
    database_integrity,
    prepare_open_campaign,
    run_load,
)

pytestmark = pytest.mark.slow


SLUG = "load-test"


@pytest.fixture
def open_campaign_database(fresh_database_url):
    """An open campaign with both built-in questionnaires, committed."""
    prepare_open_campaign(fresh_database_url, SLUG, "压力测试", 2021)
    return fresh_database_url


# Hundreds of unverified answers from one address: the open-link limits are not under test.
UNLIMITED_OPEN_LINK = {"SURVEY_OPEN_LINK_RATE_LIMIT": "1000000 per hour",
                       "SURVEY_OPEN_LINK_DEVICE_LIMIT": "1000000 per hour"}


def _open_instance_ids(url):
    engine = make_engine(url)
    with Session(engine) as session:
        ids = session.exec(select(Response.instance_id).where(Response.mode == "web_open")).all()
    engine.dispose()
    return ids


def _integrity(url):
    found = database_integrity(url)
    expected = "ok" if url.startswith("sqlite") else "n/a"
    return found.orphan_answers, found.complete_without_answers, \
        found.sqlite_integrity == expected


def test_every_acknowledged_submission_is_stored_exactly_once(open_campaign_database):
    before = set(_open_instance_ids(open_campaign_database))
    server = GunicornServer(open_campaign_database, workers=4, extra_env=UNLIMITED_OPEN_LINK)
    server.start()
    try:
        ledger = run_load(server.base_url, SLUG, residents=12, seconds=6, seed=1)
    finally:
        server.stop()
    stored = _open_instance_ids(open_campaign_database)
    new = [i for i in stored if i not in before]
    assert ledger.attempts > 20 and ledger.retries > 0
    assert ledger.server_errors == 0, ledger.errors[:5]
    assert not [e for e in ledger.errors if "locked" in e]
    assert len(new) == len(set(new)), "a submission was stored twice"
    assert set(new) == ledger.acknowledged, "lost or unacknowledged rows"
    assert _integrity(open_campaign_database) == (0, 0, True)


def test_acknowledged_responses_survive_sigkill(open_campaign_database):
    before = set(_open_instance_ids(open_campaign_database))
    server = GunicornServer(open_campaign_database, workers=4, extra_env=UNLIMITED_OPEN_LINK)
    server.start()
    ledger = Ledger()
    load = threading.Thread(target=run_load, args=(server.base_url, SLUG),
                            kwargs={"residents": 8, "seconds": 9, "seed": 2, "ledger": ledger})
    load.start()
    rng = random.Random(7)
    try:
        for _ in range(2):
            time.sleep(rng.uniform(1.5, 3.0))
            server.kill_hard()
            server.start()
        load.join()
    finally:
        server.stop()
    stored = _open_instance_ids(open_campaign_database)
    new = [i for i in stored if i not in before]
    assert ledger.acknowledged, "nothing was acknowledged"
    assert ledger.acknowledged <= set(new), "an acknowledged response was lost"
    assert len(new) == len(set(new))
    assert ledger.server_errors == 0, ledger.errors[:5]
    assert _integrity(open_campaign_database) == (0, 0, True)
