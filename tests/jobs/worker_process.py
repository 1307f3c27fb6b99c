"""A real ``survey-app jobs worker`` process on a test database and a private RQ queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("SURVEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SURVEY_APP = str(Path(sys.executable).with_name("survey-app"))


def require_redis() -> None:
    """Skip without Redis (fail under ``CI=true``, like PostgreSQL)."""
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is required in CI but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")


def job_settings(database_url: str, files: Path, **extra: str) -> dict[str, str]:
    """``SURVEY_*`` settings shared by the test's app and its worker processes."""
    return {"DATABASE_URL": database_url, "JOB_REDIS_URL": REDIS_URL,
            "JOB_QUEUE_NAME": f"survey-jobs-test-{uuid.uuid4().hex[:12]}",
            "JOB_FILES_DIR": str(files), **extra}


def app_config(settings: dict[str, str]) -> dict:
    """The same settings for ``create_app`` (numbers as numbers)."""
    return {key: int(value) if value.isdigit() else value for key, value in settings.items()}


class Worker:
    """Start, kill (-9, the whole process group) and stop worker processes."""

    def __init__(self, settings: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, "SURVEY_SECRET_KEY": "test-secret",
                    "SURVEY_PII_KEY": "test-pii-key", "SURVEY_CONTACT_KEY": "test-contact-key",
                    **{f"SURVEY_{k}": v for k, v in settings.items()}}
        self.logs = logs
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.logs / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([SURVEY_APP, "jobs", "worker"], env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@contextmanager
def workers(settings: dict[str, str], logs: Path) -> Iterator[Worker]:
    from redis import Redis
    from rq import Queue

    pool = Worker(settings, logs)
    try:
        yield pool
    finally:
        pool.stop_all()
        connection = Redis.from_url(REDIS_URL)
        Queue(settings["JOB_QUEUE_NAME"], connection=connection).delete(delete_jobs=True)
        connection.close()


def wait_for(condition: Callable[[], object], *, timeout: float, what: str,
             pool: Worker | None = None) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}"
                         + (f"\n--- worker output ---\n{pool.output()}" if pool else ""))
