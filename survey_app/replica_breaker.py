"""A read replica that does not answer sends its reads to the primary for a while.

:class:`ReplicaBreaker` is a small circuit breaker around the replica engine
(``DATABASE_REPLICA_URL``, see :mod:`survey_app.db`). A request routed to the replica gets a
session whose transaction is begun at once: the connection is made (or taken from the pool,
pinged: the replica engine tests every checkout, so one the replica dropped is replaced) and
the request's row-security scope is written by the ``after_begin`` listener
(:mod:`survey_app.row_security`), all before the view has read anything. When that fails
with an ``OperationalError`` (refused, timed out, the server shutting down), or the replica
answers but has replayed nothing for more than ``DATABASE_REPLICA_MAX_LAG_SECONDS``, the
session is closed unused and the request reads from the primary instead: nothing read on
one engine is mixed with the other. The breaker then stays open for
``DATABASE_REPLICA_RETRY_SECONDS``: every request meanwhile goes to the primary without
trying the replica; the first one after it tries the replica again. One warning line per
opening (the URL's password hidden, no traceback), one info line when the replica answers
again.

A failure after the first use (the replica lost in the middle of a request) is caught by
:mod:`survey_app.replica_rerun`: a GET or HEAD that wrote nothing runs once more on the
primary, and :meth:`ReplicaBreaker.lost` opens the breaker with one warning line.

Lag: ``now() - pg_last_xact_replay_timestamp()`` on the replica, counted as 0 while the
replica has replayed everything it received (an idle primary writes nothing, and the last
replayed commit grows old without the replica being behind) and on a server that is not
in recovery. It is asked at most every :data:`LAG_CHECK_SECONDS` per process. It compares
the replica's clock with the primary's commit times, so the two clocks must agree (NTP);
and a replica cut off from the primary has replayed all it received and counts as current
(monitor ``pg_stat_replication`` on the primary for that).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

log = logging.getLogger(__name__)

#: How often (seconds, per process) a replica's lag is asked.
LAG_CHECK_SECONDS = 5.0
_LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END")


class ReplicaBreaker:
    """Hands out replica sessions while the replica answers (see the module docstring)."""

    def __init__(self, engine: Engine, *, retry_seconds: float, max_lag_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.max_lag_seconds = max_lag_seconds
        self.clock = clock
        self._down_until: float | None = None  # None: closed (the replica serves)
        self._lag_checked_at: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Whether reads go to the primary now without trying the replica."""
        down_until = self._down_until
        return down_until is not None and self.clock() < down_until

    def session(self) -> Session | None:
        """A session on the replica, its transaction begun; None: read from the primary."""
        if self.is_open:
            return None
        session = Session(bind=self.engine, expire_on_commit=False)
        try:
            lag = self._lag(session.connection())  # connects, begins, sets the scope
        except OperationalError as exc:
            session.close()
            self._trip(f"cannot be reached ({_first_line(exc)})")
            return None
        if lag is not None and lag > self.max_lag_seconds:
            session.close()
            self._trip(f"is {lag:.0f} s behind the primary "
                       f"(limit {self.max_lag_seconds:g} s)")
            return None
        if self._down_until is not None:
            self._recovered()
        return session

    def lost(self, exc: BaseException) -> None:
        """The replica failed in the middle of a request: open the breaker (unless it is
        already open) and say so in one warning line, for each request that runs again."""
        with self._lock:
            if not self.is_open:
                self._down_until = self.clock() + self.retry_seconds
                self._lag_checked_at = None
        log.warning("Read replica %s failed during a request (%s): the request runs again on "
                    "the primary; its reads go to the primary; trying it again in %g s",
                    _hidden(self.engine), _first_line(exc), self.retry_seconds)

    def _lag(self, connection: Connection) -> float | None:
        """The replica's lag in seconds if it is due to be asked, else None."""
        if self.max_lag_seconds <= 0:
            return None
        now = self.clock()
        if self._lag_checked_at is not None and now - self._lag_checked_at < LAG_CHECK_SECONDS:
            return None
        lag = float(connection.execute(_LAG).scalar_one())
        self._lag_checked_at = now
        return lag

    def _trip(self, reason: str) -> None:
        with self._lock:
            if self.is_open:
                return  # another thread has just opened it (and said so)
            self._down_until = self.clock() + self.retry_seconds
            self._lag_checked_at = None  # ask again as soon as the replica is tried
        log.warning("Read replica %s %s: its reads go to the primary; trying it again in "
                    "%g s", _hidden(self.engine), reason, self.retry_seconds)

    def _recovered(self) -> None:
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
        log.info("Read replica %s answers again: its reads go back to it", _hidden(self.engine))


def _hidden(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__
