"""Engines and the per-request database session.

One session per application context. Services only flush; views and CLI commands write
through :meth:`Database.write`, which commits once when its block succeeds and rolls back
when anything in it raises (no view commits or rolls back by hand).

SQLite runs in WAL mode with foreign keys on and a long busy timeout. A write
transaction on SQLite begins with ``BEGIN IMMEDIATE`` so it takes the write lock
up front: a deferred transaction that reads first and writes later can fail with
"database is locked" at the upgrade, which no busy timeout can wait out. Read-only
requests use a second engine whose transactions stay deferred, so readers never
queue behind writers.

A write request holds SQLite's one write lock from its first statement to its commit, and
a writer that finds it taken sleeps in SQLite's busy handler (1, 2, 5, 10 ms...) while the
core idles. Views whose writes come after a read-only part (the resident's survey post:
link resolution, CSRF and answer validation) are marked :meth:`Database.reads_first`: their
session starts on the read engine and :meth:`Database.write` moves it to the write engine
(:meth:`Database.begin_write`) just before the service that writes, and back after the
commit (:meth:`Database.end_write`), so the lock is held only for the writes. What the
read part checked and a commit since could change (the campaign still open, the token
neither revoked nor used) is checked again inside the write transaction. A write
transaction whose first statement writes (an open link's response insert) may begin
deferred instead (``write(writes_first=True)``): SQLite then takes the lock at that
statement, waiting for it as for BEGIN IMMEDIATE, and not while the statement is prepared.
A read-only request that writes one thing (an export's audit event) writes the same way,
so that its write takes the lock and its reading does not: a deferred SQLite transaction
that read first fails at its first write if another writer committed in between.

**Read replica** (``DATABASE_REPLICA_URL``, PostgreSQL streaming replica; empty: none). The
GET and HEAD requests of the blueprints registered with :meth:`Database.reads_replica`
(evaluate, api: the dashboards, documents, exports) get a session on the replica engine;
everything else (every POST, the CLI, the resident and entry pages) stays on the primary.
A replica-read request that writes one thing (an export's audit event) writes it through
:meth:`Database.write`, which moves the session to the primary first, as above. After a
request commits a write, the same browser session reads from the primary for
``DATABASE_REPLICA_STICKY_SECONDS``, so a page shown after a post (an exclusion, then
the redirect to the dashboard) never shows the state from before it while the replica
catches up. A replica that cannot be reached (or lags more than
``DATABASE_REPLICA_MAX_LAG_SECONDS``) sends those reads to the primary for
``DATABASE_REPLICA_RETRY_SECONDS``, with one warning logged (:mod:`survey_app.replica_breaker`).
A GET that loses the replica in the middle and committed nothing runs once more on the
primary (:mod:`survey_app.replica_rerun`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request
from flask import session as browser_session
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlmodel import Session

from survey_app.replica_breaker import ReplicaBreaker

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REPLICA_METHODS = {"GET", "HEAD"}
#: Key in the browser session: until when (epoch seconds) its reads stay on the primary.
PRIMARY_UNTIL = "_db_primary_until"


def make_engine(url: str, *, immediate: bool = False, busy_timeout_ms: int = 30_000,
                ping_idle_seconds: float = 5.0, connect_timeout: int = 0) -> Engine:
    """Create an engine with the project's SQLite or PostgreSQL connection settings.

    ``connect_timeout`` (PostgreSQL, seconds; 0: libpq's default, wait as long as TCP does):
    how long a connection attempt may take before it fails.
    """
    # hide_parameters: a database error's text (logged, e.g. a failed job's) never carries
    # the statement's values, which may be names, ID numbers or phones.
    if not url.startswith("sqlite"):
        connect_args = {"connect_timeout": connect_timeout} if connect_timeout > 0 else {}
        engine = create_engine(url, hide_parameters=True, connect_args=connect_args)
        _ping_idle_connections(engine, ping_idle_seconds)
        return engine
    engine = create_engine(url, hide_parameters=True,
                           connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN so that we choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled PostgreSQL connection before use if it sat idle ``idle_seconds`` or more.

    A connection dropped while idle (a database restart, a firewall's idle timeout) is then
    replaced before the request uses it. SQLAlchemy's ``pool_pre_ping`` tests every
    checkout instead: one more round trip per request, ~10 % of a survey submission's CPU.
    The price: a connection lost less than ``idle_seconds`` after its last use fails the
    one request that takes it, and that failure renews the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("idle connection lost") from exc


def _replica_breaker(app: Flask, url: str) -> ReplicaBreaker:
    config = app.config
    # Every checkout is pinged (one round trip on an evaluator's page or an API document):
    # a connection the replica dropped (a restart) is then replaced, or its failure found
    # before the view reads, where the breaker can still send the request to the primary.
    engine = make_engine(url, ping_idle_seconds=0,
                         connect_timeout=int(config["DATABASE_REPLICA_CONNECT_TIMEOUT_SECONDS"]))
    return ReplicaBreaker(engine,
                          retry_seconds=float(config["DATABASE_REPLICA_RETRY_SECONDS"]),
                          max_lag_seconds=float(config["DATABASE_REPLICA_MAX_LAG_SECONDS"]))


@dataclass
class _State:
    read_engine: Engine
    write_engine: Engine
    bind_override: Connection | None = None
    replica_engine: Engine | None = None
    sticky_seconds: float = 0.0
    replica: ReplicaBreaker | None = None


class Database:
    """Holds the engines of an app and hands out one session per app context."""

    def __init__(self) -> None:
        self._replica_blueprints: set[str] = set()
        self._primary_endpoints: set[str] = set()

    def reads_replica(self, blueprint_name: str) -> None:
        """Let the GET/HEAD requests of ``blueprint_name`` read from the replica, if any.

        Only blueprints whose reads tolerate a replica's lag of a moment (evaluation
        documents and exports, not a worker's next household or a resident's link).
        """
        self._replica_blueprints.add(blueprint_name)

    def reads_primary(self, *endpoints: str) -> None:
        """Keep these endpoints of a replica-reading blueprint on the primary: what they
        show was written a moment ago and is polled (a background job's progress), where a
        lagging replica would answer 404 for a job the client has just started."""
        self._primary_endpoints.update(endpoints)

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"]
        write_engine = make_engine(url, immediate=True, busy_timeout_ms=timeout,
                                   ping_idle_seconds=app.config["DATABASE_PING_IDLE_SECONDS"])
        read_engine = (
            make_engine(url, busy_timeout_ms=timeout) if url.startswith("sqlite") else write_engine
        )
        replica_url = app.config.get("DATABASE_REPLICA_URL") or ""
        if replica_url and url.startswith("sqlite"):
            from survey_app.config import ConfigurationError

            raise ConfigurationError("SURVEY_DATABASE_REPLICA_URL is set, but "
                                     "SURVEY_DATABASE_URL is SQLite: a read replica needs "
                                     "PostgreSQL (docs/SCALE.md)")
        replica = _replica_breaker(app, replica_url) if replica_url else None
        app.extensions["survey_db"] = _State(
            read_engine, write_engine, replica_engine=replica and replica.engine,
            sticky_seconds=float(app.config.get("DATABASE_REPLICA_STICKY_SECONDS", 0)),
            replica=replica)
        app.teardown_appcontext(self._remove_session)
        if replica is not None:
            from survey_app import replica_rerun

            replica_rerun.install(app, self, replica)

    @staticmethod
    def replica_breaker(app: Flask) -> ReplicaBreaker | None:
        """The replica's circuit breaker (None: no replica); tests set its clock."""
        return app.extensions["survey_db"].replica

    @staticmethod
    def _state() -> _State:
        return current_app.extensions["survey_db"]

    @property
    def engine(self) -> Engine:
        return self._state().write_engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            state = self._state()
            if state.bind_override is not None:
                g.db_session = Session(
                    bind=state.bind_override,
                    join_transaction_mode="create_savepoint",
                    expire_on_commit=False,
                )
            else:
                writing = not has_request_context() or (
                    request.method in WRITE_METHODS and not g.get("db_reads_first"))
                engine = state.write_engine if writing else state.read_engine
                on_replica = not writing and self._on_replica(state)
                # None: the replica does not answer, the primary serves (replica_breaker)
                g.db_session = (on_replica and state.replica.session()) or Session(
                    bind=engine, expire_on_commit=False)
        return g.db_session

    def _on_replica(self, state: _State) -> bool:
        """Whether this request's session reads from the replica (see the module docstring)."""
        if state.replica_engine is None or request.method not in REPLICA_METHODS \
                or request.blueprint not in self._replica_blueprints \
                or request.endpoint in self._primary_endpoints or g.get("db_primary_only"):
            return False
        return browser_session.get(PRIMARY_UNTIL, 0) <= time.time()

    @property
    def on_replica(self) -> bool:
        """Whether this request's session is bound to the replica engine now."""
        state = self._state()
        return state.replica_engine is not None and self.session.bind is state.replica_engine

    def leave_replica(self) -> None:
        """Drop this request's replica session (it failed): roll it back, close it, forget
        the account loaded through it; the rest of the request reads the primary."""
        session = g.get("db_session")
        if session is not None:
            with suppress(SQLAlchemyError):  # its connection may be gone already
                session.rollback()
        self._remove_session()
        # Flask-Login's account of this request, an object of the closed session: its
        # loader reads it again, from the primary, and applies its row-security scope.
        g.pop("_login_user", None)
        g.db_primary_only = True

    @staticmethod
    def reads_first(view: Callable) -> Callable:
        """Mark a view whose session reads on the read engine until :meth:`begin_write`."""

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.db_reads_first = True
            try:
                return view(*args, **kwargs)
            finally:
                # g outlives the request when a test pushed an app context around it.
                g.pop("db_reads_first", None)

        return wrapper

    def begin_write(self, *, writes_first: bool = False) -> Session:
        """Move this request's session from the read engine (a :meth:`reads_first` view, or a
        GET that writes one thing) to the write engine and return it.

        Ends the read transaction first (a deferred SQLite transaction that read cannot be
        upgraded once another writer committed). Objects loaded so far stay usable
        (``expire_on_commit=False``); nothing may be pending, since it would be written
        through the read engine. A no-op for sessions already on the write engine (every
        PostgreSQL session, tests' bound sessions).

        ``writes_first``: the caller's first statement writes (an INSERT, nothing read
        before it in this transaction). On SQLite the transaction then begins deferred, on
        the read engine: SQLite takes the write lock at that first statement and waits for
        it as for ``BEGIN IMMEDIATE`` (no snapshot was read that another writer could
        outdate), and the lock is not held while the statement is being prepared. A caller
        that reads first must not pass it: its write would fail with "database is locked"
        whenever another writer committed after its read.

        A call while a write begun this way is under way returns the session unchanged (it
        must not commit the half-done write); :meth:`end_write` ends that state.
        """
        session = self.session
        state = self._state()
        if (session.bind is state.write_engine or state.bind_override is not None
                or g.get("db_writing")):
            return session
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("changes made before begin_write() would bypass the write lock")
        if session.in_transaction():  # none if nothing was read (a remembered open link)
            session.commit()
        g.db_write_from = session.bind  # where end_write() moves it back to
        if not writes_first or session.bind is state.replica_engine:
            # A replica takes no writes: writes_first only spares SQLite's lock.
            session.bind = state.write_engine
        g.db_writing = True
        return session

    def end_write(self) -> Session:
        """Move a session that :meth:`begin_write` moved back to the read engine.

        After its write transaction ended (committed or rolled back): what the request
        still reads (a streamed export, a refusal page) takes no write lock. A no-op where
        there is one engine.
        """
        session = self.session
        state = self._state()
        if state.bind_override is not None:
            return session
        if session.in_transaction():
            raise RuntimeError("commit or roll back before end_write()")
        g.pop("db_writing", None)
        session.bind = g.pop("db_write_from", state.read_engine)
        return session

    @contextmanager
    def write(self, *, writes_first: bool = False) -> Iterator[Session]:
        """The write boundary: yield the session to write with; commit once if the block
        succeeds, roll back if it raises (the exception propagates).

        The SQLite write lock is chosen here (:meth:`begin_write`): a session on the read
        engine (a :meth:`reads_first` view, a GET that writes one thing) moves to the write
        engine, whose transaction begins IMMEDIATE, or with ``writes_first`` (the block's
        first statement writes) begins deferred, so the lock is taken at that statement.
        Such a session goes back to the read engine afterwards (:meth:`end_write`), so what
        the request still reads (a refusal page, a streamed export) takes no lock. Sessions
        already on the write engine (other posts, CLI commands, PostgreSQL, tests' bound
        sessions) stay where they are; what they read before the block is part of its
        transaction.

        One write per block: a block inside another raises RuntimeError, since its commit
        would commit the outer block's half-done write.

        Examples
        --------
        >>> with db.write() as session:                        # doctest: +SKIP
        ...     campaigns.set_status(campaign, "open", session=session, actor=user)
        """
        flags = g._get_current_object()  # once: each access through the proxy costs a lookup
        if "db_write_open" in flags:
            raise RuntimeError("db.write() inside db.write(): one block, one commit")
        was_writing = "db_writing" in flags
        session = self.begin_write(writes_first=writes_first)
        moved = not was_writing and "db_writing" in flags  # set by begin_write if it moved
        flags.db_write_open = True
        try:
            yield session
            session.commit()
            flags.db_committed = True  # a GET that wrote is not run again (replica_rerun)
            self._stick_to_primary()
        except BaseException:
            session.rollback()
            raise
        finally:
            del flags.db_write_open
            if moved:  # end_write(), less its checks: the transaction has just ended
                del flags.db_writing
                session.bind = flags.pop("db_write_from", None) or self._state().read_engine

    def _stick_to_primary(self) -> None:
        """After a committed write, this browser session reads from the primary for a while
        (the replica may not have replayed the write yet). Only a signed-in staff member's
        session: residents never see replica pages, and their posts set no cookie for it."""
        state = self._state()
        if state.replica_engine is not None and state.sticky_seconds > 0 \
                and has_request_context() and "_user_id" in browser_session:
            browser_session[PRIMARY_UNTIL] = time.time() + state.sticky_seconds

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session of its own on the read engine, for a long read outside a request (a
        background job's export): on SQLite it takes no write lock while it reads."""
        state = self._state()
        if state.bind_override is not None:
            # Tests: the bound session itself. A second one would open a savepoint that the
            # job's own writes nest in, and closing it would undo them.
            yield self.session
            return
        session = Session(bind=state.read_engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()

    @staticmethod
    def _remove_session(_exc: BaseException | None = None) -> None:
        g.pop("db_writing", None)
        g.pop("db_write_from", None)
        g.pop("db_write_open", None)
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    def bind_to(self, app: Flask, connection: Connection | None) -> None:
        """Run every session of ``app`` inside ``connection``'s transaction (tests)."""
        app.extensions["survey_db"].bind_override = connection

    def dispose(self, app: Flask) -> None:
        state: _State = app.extensions["survey_db"]
        state.write_engine.dispose()
        state.read_engine.dispose()
        if state.replica_engine is not None:
            state.replica_engine.dispose()
