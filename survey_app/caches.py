"""The one policy for what a worker process keeps in memory between requests.

Every cache here is **per process** (one per gunicorn worker; nothing is shared between
workers or survives a restart), **bounded** (least recently used out first), and
**correct without invalidation messages**: a cached value is either keyed by something
that changes whenever the value would (a content hash, a data version), or it is used only
where a later check in the same statement catches a stale value, and then it also has a
lifetime. Nothing is ever invalidated by another process, because no process can tell
another one anything.

- **Parsed questionnaires** (``services.questionnaire_versions``): keyed by the version's
  content hash; no lifetime. A stored version never changes and its hash names it.
- **Open links** (``services.survey_session.OpenLinks``): keyed by (slug, group); lives
  ``SURVEY_OPEN_LINK_CACHE_SECONDS``. The response insert re-checks, in its own statement,
  that the campaign is open and the group's questionnaire unchanged.
- **Scores documents** (``services.score_cache``): keyed by (database, campaign, filters,
  data version); no lifetime, but stored only once the data has settled
  (``SURVEY_SCORE_CACHE_SETTLE_SECONDS``). The data version is read from the database on
  every request, so a change in the data changes the key.
- **Roll-up documents** (``services.score_cache.cached_rollup``): keyed by (database, region,
  year, the counties' campaigns, :func:`~survey_app.services.score_cache.region_version`: the
  campaigns' response aggregates and newest audit events, two grouped queries); no lifetime,
  stored only once settled like the scores documents.

A new cache belongs here too: use :class:`ProcessCache`, add it to the list above, and say which
of the two rules keeps it correct.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class ProcessCache(Generic[Value]):
    """A thread-safe LRU mapping with an optional lifetime per entry.

    Parameters
    ----------
    max_entries : int
        Entries kept; putting one more drops the least recently used.
    ttl_seconds : float or None
        An entry older than this is treated as absent; ``None`` keeps entries until they
        are pushed out; ``0`` or less stores nothing (the cache is off).
    clock : callable
        Monotonic seconds (tests pass their own).

    Examples
    --------
    >>> cache = ProcessCache(max_entries=2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a")
    1
    >>> cache.put("c", 3)  # "b" was used least recently
    >>> cache.get("b") is None, len(cache)
    (True, 2)
    """

    def __init__(self, *, max_entries: int, ttl_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Value]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds is None or self.ttl_seconds > 0

    def get(self, key: Hashable) -> Value | None:
        """The live value under ``key``, or None (counted as a miss)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.ttl_seconds is not None \
                    and self._clock() - entry[0] >= self.ttl_seconds:
                del self._entries[key]
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, value: Value) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
