"""Token guessing is throttled across gunicorn workers when the counters live in Redis."""

import os
import urllib.error
import urllib.request
import uuid

import pytest
import redis

from tests.reliability.harness import GunicornServer

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 6


def _redis_or_skip():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is required in CI but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


@pytest.mark.slow
def test_exactly_the_limit_passes_across_four_workers(tmp_path):
    _redis_or_skip()
    from survey_app.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'limits.db'}"
    upgrade(url)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    server = GunicornServer(url, workers=4, extra_env={
        "SURVEY_RATELIMIT_STORAGE_URI": REDIS_URL,
        "SURVEY_RATELIMIT_KEY_PREFIX": prefix,
        "SURVEY_TOKEN_RATE_LIMIT": f"{LIMIT} per minute",
    })
    server.start()
    try:
        # Fresh connections each time, so gunicorn spreads them over its workers.
        results = [_status(f"{server.base_url}/s/guess{i:04d}{uuid.uuid4().hex}")
                   for i in range(LIMIT + 4)]
    finally:
        server.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    codes = [code for code, _ in results]
    assert codes == [404] * LIMIT + [429] * 4
    retry_after = int(results[LIMIT][1]["Retry-After"])
    assert 0 < retry_after <= 60

