"""A Redis server of the test's own, on a free port, that the test may kill.

The shared Redis (127.0.0.1:6379) serves other test runs and people on this machine; an
outage test must not take it down. ``redis-server`` comes from Debian's ``redis-server``
package (CI starts the shared one from the same binary, ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.reliability.harness import free_port


def redis_server_or_skip() -> str:
    """The path of ``redis-server``; skip the test without it (fail it under ``CI=true``)."""
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is required in CI but not on PATH")
        pytest.skip("redis-server not on PATH (Debian package redis-server)")
    return found


@dataclass
class PrivateRedis:
    """``redis-server --port <free port> --save ''`` in ``directory``; nothing persisted."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> PrivateRedis:
        self.process = subprocess.Popen(
            [redis_server_or_skip(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in time")

    def is_up(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        """SIGKILL: the outage comes without warning, as a crash or an OOM kill does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
