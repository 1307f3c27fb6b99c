"""Load with a ledger against a real gunicorn server.

Simulated residents fill the open-link survey over HTTP (stdlib only: a cookie jar,
no redirects followed). Every submission the server acknowledges (a redirect to the
receipt) goes into the ledger. Afterwards the database must hold exactly the
acknowledged submissions: none lost, none duplicated. A share of submissions is
retried with the same form instance, as if the acknowledgement was lost, and a share
is sent twice in parallel, as a double tap does.

Used by tests/reliability (short runs in CI) and benchmarks/load_ledger.py (long runs).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from questionnaires import load_builtin

ROOT = Path(__file__).resolve().parents[2]
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
INSTANCE_RE = re.compile(r'name="instance_id"[^>]*value="([^"]+)"')
GROUPS = ("relocated", "rental_subsidy")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class GunicornServer:
    """A gunicorn process group serving the app on a free local port."""

    database_url: str
    workers: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        env = {**os.environ, "SURVEY_DATABASE_URL": self.database_url,
               "SURVEY_SECRET_KEY": "load-test-secret-key", "SURVEY_PII_KEY": "load-test-pii",
               "SURVEY_CONTACT_KEY": "load-test-contact",
               "SURVEY_WORKERS": str(self.workers), "SURVEY_BIND": f"127.0.0.1:{self.port}",
               # The segmenter at start, as during busy fieldwork: the tests' residents post
               # comments from the first second (survey_app/gunicorn_conf.py).
               "SURVEY_COMMENT_SEGMENTER": "start",
               **self.extra_env}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        shared_before = self._segmenter_lines() if hasattr(self, "_log_file") else 0
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "python:survey_app.gunicorn_conf", "--access-logfile",
             "/dev/null", "survey_app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._log(),
            start_new_session=True,  # its own process group, so SIGKILL reaches every worker
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base_url + "/", timeout=2).read()
                self._wait_for_workers(shared_before, deadline=time.monotonic() + 90)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited: " + self.log_text())
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in time")

    def _segmenter_lines(self) -> int:
        text = self.log_text()
        return (text.count("Comment segmenter loaded")
                + text.count("Loading the comment segmenter in the master failed"))

    def _children(self) -> set[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in path.read_text().split()}
        except OSError:
            return set()

    def _wait_for_workers(self, shared_before: int, *, deadline: float) -> None:
        """After the first 200 (one worker serves while the master loads the comment
        segmenter, survey_app/gunicorn_conf.py), wait until the master has replaced it by the
        configured number of workers: tests measure the server as deployed, not its
        start-up window."""
        first = self._children()  # one worker, or already the replacements
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.log_text())
            children = self._children()
            replaced = len(first) > 1 or not children & first
            if (self._segmenter_lines() > shared_before and len(children) == self.workers
                    and replaced):
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not replace its first worker in time: "
                           + self.log_text()[-2000:])

    def _log(self):
        import tempfile

        if not hasattr(self, "_log_file"):
            # Kept open across restarts and closed in stop().
            self._log_file = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log")  # noqa: SIM115
        return self._log_file

    def log_text(self) -> str:
        self._log_file.flush()
        return Path(self._log_file.name).read_text(errors="replace")

    def kill_hard(self) -> None:
        """SIGKILL the whole process group: master and workers die mid-request."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_hard()
        if hasattr(self, "_log_file"):
            self._log_file.close()
            del self._log_file


@dataclass
class Ledger:
    acknowledged: set[str] = field(default_factory=set)
    attempts: int = 0
    retries: int = 0
    parallel_doubles: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, seconds: float, instance_id: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if instance_id is not None:
                self.acknowledged.add(instance_id)

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)


def _answers(rng: random.Random, group: str) -> dict[str, str]:
    questionnaire = load_builtin(group)
    answers = {}
    for q in questionnaire.questions():
        if q.type == "rating":
            answers[f"a_{q.id}"] = rng.choice("5554443219")
        elif q.id == "has_complained":
            answers[f"a_{q.id}"] = rng.choice("12")
        elif q.type == "single":
            answers[f"a_{q.id}"] = q.options[0].code
        elif q.type == "integer":
            answers[f"a_{q.id}"] = str(rng.randint(1, 6))
        elif q.type == "text":
            answers[f"a_{q.id}"] = rng.choice(["", "希望补贴按时发放", "满意"])
    return answers


class Resident:
    """A stream of simulated residents: each submission comes from a new phone (its own
    cookie jar), since a phone that answered an open link is shown its receipt."""

    def __init__(self, base_url: str, slug: str, rng: random.Random, ledger: Ledger):
        self.base_url, self.slug, self.rng, self.ledger = base_url, slug, rng, ledger
        self._new_phone()

    def _new_phone(self) -> None:
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                                  _NoRedirect())

    def _request(self, url: str, data: bytes | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(url, data=data)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), exc.headers.get("Location", "")

    def _post(self, url: str, body: bytes) -> tuple[int, str]:
        started = time.perf_counter()
        try:
            status, text, location = self._request(url, body)
        except (OSError, http.client.HTTPException) as exc:  # server down or killed mid-reply
            with self.ledger.lock:
                self.ledger.errors.append(f"{type(exc).__name__}: {exc}")
            return 0, ""
        elapsed = time.perf_counter() - started
        acked = status in (302, 303) and "/receipt/" in location
        instance = location.rsplit("/", 1)[-1] if acked else None
        self.ledger.record(status, elapsed, instance)
        if status >= 500:
            with self.ledger.lock:
                self.ledger.errors.append(f"{status}: {text[:200]}")
        return status, location

    def submit_one(self) -> None:
        self._new_phone()
        group = self.rng.choice(GROUPS)
        # Past the identification step: these answers are stored unverified (the ledger
        # checks storage, not the estimates).
        url = f"{self.base_url}/c/{self.slug}/{group}?unverified=1"
        try:
            status, page, _ = self._request(url)
        except (OSError, http.client.HTTPException) as exc:  # server down or killed mid-reply
            with self.ledger.lock:
                self.ledger.errors.append(f"GET {type(exc).__name__}: {exc}")
            return
        csrf, instance = CSRF_RE.search(page), INSTANCE_RE.search(page)
        if status != 200 or instance is None:
            self.ledger.record(status, 0.0)
            return
        fields = {**_answers(self.rng, group), "instance_id": instance.group(1),
                  "submit": "1"}
        if csrf:
            fields["csrf_token"] = csrf.group(1)
        body = urllib.parse.urlencode(fields).encode()
        with self.ledger.lock:
            self.ledger.attempts += 1
        roll = self.rng.random()
        if roll < 0.05:  # a double tap: the same post twice at once
            with self.ledger.lock:
                self.ledger.parallel_doubles += 1
            twin = threading.Thread(target=self._post, args=(url, body))
            twin.start()
            self._post(url, body)
            twin.join()
        else:
            self._post(url, body)
        if 0.05 <= roll < 0.25:  # the acknowledgement was "lost": retry 1-3 times
            for _ in range(self.rng.randint(1, 3)):
                with self.ledger.lock:
                    self.ledger.retries += 1
                self._post(url, body)


def run_load(base_url: str, slug: str, *, residents: int, seconds: float, seed: int = 0,
             ledger: Ledger | None = None, max_submissions: int | None = None) -> Ledger:
    """Run ``residents`` threads submitting for ``seconds`` (bounded in count and time)."""
    ledger = ledger or Ledger()
    deadline = time.monotonic() + seconds

    def resident(index: int) -> None:
        person = Resident(base_url, slug, random.Random(seed * 1000 + index), ledger)  # noqa: S311
        while time.monotonic() < deadline:
            if max_submissions is not None and ledger.attempts >= max_submissions:
                return
            person.submit_one()

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(residents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ledger


@dataclass(frozen=True)
class Integrity:
    """What a crash must never leave behind."""

    orphan_answers: int
    complete_without_answers: int
    sqlite_integrity: str  # PRAGMA integrity_check ("ok"), or "n/a" on PostgreSQL


def database_integrity(url: str) -> Integrity:
    from sqlalchemy import text

    from survey_app.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        orphans = conn.execute(text(
            "SELECT count(*) FROM answer a LEFT JOIN response r ON r.id = a.response_id "
            "WHERE r.id IS NULL")).scalar_one()
        empty = conn.execute(text(
            "SELECT count(*) FROM response r WHERE r.status = 'complete' AND NOT EXISTS "
            "(SELECT 1 FROM answer a WHERE a.response_id = r.id)")).scalar_one()
        check = conn.execute(text("PRAGMA integrity_check")).scalar_one() \
            if url.startswith("sqlite") else "n/a"
    engine.dispose()
    return Integrity(orphans, empty, check)


def prepare_open_campaign(url: str, slug: str, title: str, year: int = 2026) -> None:
    """Commit an open campaign with both built-in questionnaires into the database at ``url``."""
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.models import CampaignStatus
    from survey_app.services import campaigns, questionnaire_versions
    from tests.fixtures.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        campaign = campaigns.create_campaign(slug, title, year, session=db.session)
        campaign.status = CampaignStatus.OPEN
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=db.session)
        db.session.commit()
    db.dispose(app)


def issue_demo_tokens(url: str, count: int) -> list[str]:
    """Commit fresh survey links for ``count`` demo households that have not answered
    (the demo loaded at ``url``); return the tokens.

    Sampled households come first; a load run needs more links than the demo's 134 waiting
    sampled households, and a link works the same for a household outside the sample.
    """
    from sqlmodel import select

    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.models import Disposition, Household
    from survey_app.services import campaigns, demo, tokens
    from tests.fixtures.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        campaign = campaigns.get_campaign(demo.SLUG, session=db.session)
        waiting = db.session.exec(select(Household).where(
            Household.campaign_id == campaign.id,
            Household.disposition == Disposition.PENDING)
            .order_by(Household.sampled.desc(), Household.sample_rank, Household.id)
            .limit(count)).all()
        issued = [tokens.issue_token(household, session=db.session) for household in waiting]
        db.session.commit()
    db.dispose(app)
    if len(issued) < count:
        raise RuntimeError(f"only {len(issued)} demo households are waiting, not {count}")
    return issued


@dataclass(frozen=True)
class Counted:
    """The demo campaign's indicator as the scores document computes it."""

    indicator: float | None  # Indicator.actual (the overall item's rate, for the demo)
    respondents: int  # responses counted in the estimates
    complete_responses: int  # every complete response stored, counted or not


def demo_counted(url: str) -> Counted:
    from sqlalchemy import func
    from sqlmodel import select

    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.models import Response
    from survey_app.services import campaigns, demo, scores
    from tests.fixtures.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        campaign = campaigns.get_campaign(demo.SLUG, session=db.session)
        document = scores.indicator_document(campaign, session=db.session)
        stored = db.session.exec(select(func.count()).select_from(Response).where(
            Response.campaign_id == campaign.id, Response.status == "complete")).one()
    db.dispose(app)
    actual = document.indicator.actual if document.indicator is not None else None
    return Counted(actual, document.n_respondents, stored)


def demo_password(username: str) -> str:
    """The password of a demo account (``services.demo.DEMO_ACCOUNTS``)."""
    from survey_app.services import demo

    return next(password for name, password, _, _ in demo.DEMO_ACCOUNTS if name == username)
