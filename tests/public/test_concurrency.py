"""Parallel submits against a real server on a committed database (SQLite and PostgreSQL).

The rolled-back ``app`` fixture runs every request on one connection, so it cannot show a
race; here 20 threads post at once through werkzeug's threaded server, each request with its
own connection and transaction.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AccessToken, Response
from tests.public.conftest import RELOCATED_ANSWERS, form_data

PARALLEL = 20


def _post_in_parallel(base_url: str, path: str, bodies: list[dict]) -> list[tuple[int, str]]:
    """POST each body from its own thread, all released at once; (status, Location) each."""
    parts = urlsplit(base_url)
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, str] | None] = [None] * len(bodies)

    def worker(index: int, body: dict) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        encoded = urlencode(body, doseq=True)
        barrier.wait()
        connection.request("POST", path, encoded,
                           {"Content-Type": "application/x-www-form-urlencoded"})
        reply = connection.getresponse()
        reply.read()
        results[index] = (reply.status, reply.getheader("Location", ""))
        connection.close()

    threads = [threading.Thread(target=worker, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _stored(live) -> list[Response]:
    with live.app.app_context():
        return db.session.exec(select(Response)).all()


def test_parallel_identical_submits_store_one_response(live_server):
    token = live_server.data.token()
    body = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))
    results = _post_in_parallel(live_server.url, f"/s/{token}", [body] * PARALLEL)
    assert {status for status, _ in results} == {302}
    assert len({location for _, location in results}) == 1
    [stored] = _stored(live_server)
    assert stored.status == "complete"


def test_parallel_submits_of_one_token_with_new_instances_store_one(live_server):
    # A double tap on two open tabs: different instance ids, one household token.
    token = live_server.data.token()
    bodies = [form_data(RELOCATED_ANSWERS, str(uuid.uuid4())) for _ in range(PARALLEL)]
    results = _post_in_parallel(live_server.url, f"/s/{token}", bodies)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (PARALLEL - 1) + [302]  # 200: the "already answered" page
    [stored] = _stored(live_server)
    with live_server.app.app_context():
        used = db.session.exec(select(AccessToken).where(AccessToken.used_at.is_not(None))).all()
    assert [t.household_id for t in used] == [stored.household_id]


def test_parallel_identical_open_link_submits_store_one_response(live_server):
    slug = live_server.data.campaign.slug
    body = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))
    results = _post_in_parallel(live_server.url, f"/c/{slug}/relocated", [body] * PARALLEL)
    assert {status for status, _ in results} == {302}
    [stored] = _stored(live_server)
    assert stored.mode == "web_open"


def test_parallel_open_link_submits_of_new_instances_are_all_stored(live_server):
    # Twenty residents at once, after one of them loaded the form (the link is remembered):
    # on SQLite each write transaction begins deferred and takes the lock at its insert;
    # none may fail with "database is locked".
    slug = live_server.data.campaign.slug
    urlopen(f"{live_server.url}/c/{slug}/relocated?unverified=1").read()
    bodies = [form_data(RELOCATED_ANSWERS, str(uuid.uuid4())) for _ in range(PARALLEL)]
    results = _post_in_parallel(live_server.url, f"/c/{slug}/relocated", bodies)
    assert [status for status, _ in results] == [302] * PARALLEL
    stored = _stored(live_server)
    assert sorted(r.instance_id for r in stored) == sorted(b["instance_id"] for b in bodies)
    assert all(r.status == "complete" for r in stored)
