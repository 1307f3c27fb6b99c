"""The per-process cache every worker-level cache uses (survey_app.caches)."""

import threading

import pytest

from survey_app.caches import ProcessCache


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_least_recently_used_entry_goes_first():
    cache = ProcessCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert (cache.hits, cache.misses) == (3, 1)


def test_entries_expire_after_their_lifetime():
    clock = FakeClock()
    cache = ProcessCache(max_entries=4, ttl_seconds=60, clock=clock)
    cache.put("link", "resolved")
    clock.now += 59.9
    assert cache.get("link") == "resolved"
    clock.now += 0.1
    assert cache.get("link") is None
    assert len(cache) == 0  # the expired entry is dropped, not kept


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_lifetime_of_zero_or_less_turns_the_cache_off(ttl):
    cache = ProcessCache(max_entries=4, ttl_seconds=ttl)
    cache.put("k", "v")
    assert not cache.enabled
    assert cache.get("k") is None
    assert len(cache) == 0


def test_pop_and_clear():
    cache = ProcessCache(max_entries=4)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.pop("a")
    cache.pop("missing")
    assert cache.get("a") is None and cache.get("b") == 2
    cache.clear()
    assert len(cache) == 0


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError, match="max_entries"):
        ProcessCache(max_entries=0)


def test_concurrent_puts_keep_the_bound():
    cache = ProcessCache(max_entries=50)

    def fill(offset):
        for i in range(2000):
            cache.put((offset, i), i)
            cache.get((offset, i - 1))

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50
