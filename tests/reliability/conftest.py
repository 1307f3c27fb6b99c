import pytest

from tests.reliability.private_redis import PrivateRedis


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own, killed afterwards (see private_redis.py)."""
    server = PrivateRedis(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()
