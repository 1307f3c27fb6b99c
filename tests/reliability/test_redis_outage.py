"""Redis dies mid-run: residents keep submitting, nothing is lost, staff logins stay throttled.

gunicorn (4 workers) keeps its rate-limit counters in a Redis of the test's own
(:class:`tests.reliability.private_redis.PrivateRedis`), which is SIGKILLed while residents
answer their survey links (a share of submits retried with the same form, as after a lost
acknowledgement) and a guesser tries unknown links. Afterwards: zero 5xx, every
acknowledged submit stored exactly once (the ledger), a warning in the server log, and a
brute force on the login still refused by the in-memory fallback (per worker: at most
``workers x LIMIT`` attempts get through) while a correct login from elsewhere passes.
"""

import queue
import random
import threading
import time
from collections import Counter

import pytest
from sqlmodel import Session, select

from survey_app.db import make_engine
from survey_app.models import Response
from tests.reliability.browser import Browser, answer_fields, log_in, read_page, survey_form
from tests.reliability.harness import GunicornServer, Ledger, demo_password, issue_demo_tokens

pytestmark = pytest.mark.slow

WORKERS, RESIDENTS, LINKS = 4, 6, 500
LIMIT = 5  # login posts per address and minute
RUN_SECONDS, KILL_AFTER = 10.0, 3.0
EVALUATOR = ("evaluator", demo_password("evaluator"))


class Outage:
    """The run's shared state: the ledger, the links left, when Redis was killed."""

    def __init__(self, server: GunicornServer, links: list[str]):
        self.server, self.ledger = server, Ledger()
        self.links: queue.Queue[str] = queue.Queue()
        for token in links:
            self.links.put(token)
        self.killed_at: float | None = None
        self.acked_after_kill = 0
        self.deadline = time.monotonic() + RUN_SECONDS

    def client(self, source: str) -> Browser:
        return Browser("127.0.0.1", self.server.port, source=source, timeout=30)

    def _submit(self, client: Browser, token: str, fields) -> None:
        started = time.perf_counter()
        reply = client.post(f"/s/{token}", fields)
        acked = reply.status in (302, 303) and "/receipt/" in reply.location
        instance = reply.location.rsplit("/", 1)[-1] if acked else None
        self.ledger.record(reply.status, time.perf_counter() - started, instance)
        if acked and self.killed_at is not None:
            with self.ledger.lock:
                self.acked_after_kill += 1
        if reply.status >= 500 or not acked:
            with self.ledger.lock:
                self.ledger.errors.append(f"POST {reply.status}: {reply.text[:200]}")

    def resident(self, index: int) -> None:
        rng = random.Random(index)  # noqa: S311 - test data
        client = self.client(f"127.0.0.{10 + index}")
        while time.monotonic() < self.deadline:
            try:
                token = self.links.get_nowait()
            except queue.Empty:
                return
            client.cookies.clear()
            page = client.get(f"/s/{token}")
            self.ledger.record(page.status, 0.0)
            form = survey_form(read_page(page.text))
            if form is None:
                self.ledger.errors.append(f"GET {page.status}: no survey form")
                continue
            fields = answer_fields(form, rng.choice)
            with self.ledger.lock:
                self.ledger.attempts += 1
            self._submit(client, token, fields)
            if rng.random() < 0.15:  # the acknowledgement was "lost": the same form again
                with self.ledger.lock:
                    self.ledger.retries += 1
                self._submit(client, token, fields)

    def guesser(self) -> None:
        client = self.client("127.0.0.2")
        while time.monotonic() < self.deadline:
            self.ledger.record(client.get(f"/s/unknown{random.getrandbits(64):016x}").status,
                               0.0)
            time.sleep(0.2)


def _stored(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        ids = session.exec(select(Response.instance_id).where(
            Response.mode == "web_token", Response.status == "complete")).all()
    engine.dispose()
    return list(ids)


def test_redis_stopped_mid_run(fresh_demo_database_url, private_redis):
    url = fresh_demo_database_url
    links = issue_demo_tokens(url, LINKS)
    before = set(_stored(url))
    server = GunicornServer(url, workers=WORKERS, extra_env={
        "SURVEY_RATELIMIT_STORAGE_URI": private_redis.url,
        "SURVEY_LOGIN_RATE_LIMIT": f"{LIMIT} per minute"})
    server.start()
    run = Outage(server, links)
    threads = [threading.Thread(target=run.resident, args=(i,)) for i in range(RESIDENTS)]
    threads.append(threading.Thread(target=run.guesser))
    try:
        for thread in threads:
            thread.start()
        time.sleep(KILL_AFTER)
        private_redis.kill()
        run.killed_at = time.monotonic()
        for thread in threads:
            thread.join()
        brute = [log_in(run.client("127.0.0.3"), "admin", f"wrong-{i}")
                 for i in range((WORKERS + 1) * LIMIT)]
        correct = log_in(run.client("127.0.0.4"), *EVALUATOR)
        log = server.log_text()
    finally:
        server.stop()
    new = [i for i in _stored(url) if i not in before]
    ledger = run.ledger
    # Figures for docs/RELIABILITY.md (shown with -s).
    print(f"\nsubmits {ledger.attempts}, retries {ledger.retries}, acknowledged "
          f"{len(ledger.acknowledged)} ({run.acked_after_kill} after the kill), stored "
          f"{len(new)}, statuses {dict(sorted(ledger.statuses.items()))}, login brute force "
          f"{dict(sorted(Counter(brute).items()))}, correct login {correct}")
    assert not private_redis.is_up()
    assert ledger.server_errors == 0 and 500 not in brute, ledger.errors[:5]
    assert not ledger.errors, ledger.errors[:5]
    assert ledger.attempts > 20 and ledger.retries > 0
    assert run.acked_after_kill >= 10, "residents did not go on submitting after the outage"
    assert len(new) == len(set(new)), "a submit was stored twice"
    assert set(new) == ledger.acknowledged, "an acknowledged submit was lost"
    # Both throttles say so in the log: failed link lookups, and Flask-Limiter's (logins).
    assert "rate-limit storage unreachable" in log, "no warning of the link throttle"
    assert "falling back to in-memory storage" in log, "no warning of the login throttle"
    # In-memory fallback: each worker counts on its own, so at most WORKERS x LIMIT pass.
    assert brute.count(429) >= LIMIT and len(brute) - brute.count(429) <= WORKERS * LIMIT
    assert set(brute) <= {200, 429}
    assert correct == 302
