"""Reads on a real PostgreSQL streaming replica: lag, routing, and the write that must not go there.

Needs a streaming replica of the primary's cluster (docs/SCALE.md, "Read replica", says how
one was started on this machine: ``pg_createcluster 15 replica -p 5433``, ``pg_basebackup
-R``). A scratch database is created on the primary (the replica receives it through the
WAL), the demo is loaded, and then:

- lag: a campaign committed on the primary, polled on the replica until it is there
  (``--commits`` times; median and maximum);
- routing: an evaluator's dashboard through an app with ``DATABASE_REPLICA_URL``; the
  replica's committed-transaction counter for the database moves, the primary's response
  count is unchanged;
- an export: its audit event lands on the primary (and reaches the replica afterwards);
- the replica refuses a write (read-only transaction).

Usage: .venv/bin/python benchmarks/bench_replica.py
           [--replica postgresql+psycopg://postgres@127.0.0.1:5433/postgres] [--commits 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bulk_data import make_bench_app, scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from survey_app.extensions import db
from survey_app.services import campaigns, demo


def _wait_for(engine, sql: str, params: dict, timeout: float = 30.0) -> float:
    """Seconds until ``sql`` returns a row on ``engine``."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with engine.connect() as conn:
                if conn.execute(text(sql), params).first() is not None:
                    return time.perf_counter() - t0
        except DBAPIError:
            pass  # the database itself has not arrived yet
        time.sleep(0.001)
    raise TimeoutError(sql)


def _lag(app, replica, commits: int) -> list[float]:
    seconds = []
    for i in range(commits):
        slug = f"lag-{i}-{time.time_ns()}"
        with app.app_context():
            campaigns.create_campaign(slug, "延迟测试", 2021, session=db.session)
            db.session.commit()
        seconds.append(_wait_for(replica, "SELECT 1 FROM campaign WHERE slug = :s",
                                 {"s": slug}))
    return seconds


def _commits(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT xact_commit FROM pg_stat_database "
                                 "WHERE datname = current_database()")).scalar_one()


def run(replica_admin: str, commits: int) -> None:
    with scratch_database("postgresql") as url:
        replica_url = make_url(replica_admin).set(
            database=make_url(url).database).render_as_string(hide_password=False)
        replica = create_engine(replica_url)
        print(f"database on the replica after {_wait_for(replica, 'SELECT 1', {}):.3f} s")
        primary_app = make_bench_app(url)
        with primary_app.app_context():
            demo.load_demo(session=db.session, example_links=0)
            db.session.commit()
        lag = _lag(primary_app, replica, commits)
        print(f"lag over {commits} commits: median {statistics.median(lag) * 1000:.1f} ms, "
              f"max {max(lag) * 1000:.1f} ms")
        app = make_bench_app(url, WTF_CSRF_ENABLED=False, DATABASE_REPLICA_URL=replica_url,
                             DATABASE_REPLICA_STICKY_SECONDS=0)
        client = app.test_client()
        client.post("/auth/login", data={"username": "evaluator",
                                          "password": "heshan-pingjia-2021"})
        before = _commits(replica)
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            assert client.get(f"/evaluate/{demo.SLUG}").status_code == 200
            print(f"dashboard from the replica ({label}): {time.perf_counter() - t0:.3f} s")
        print(f"replica transactions during the two dashboards: {_commits(replica) - before}")
        primary = create_engine(url)
        sql = "SELECT count(*) FROM auditevent WHERE action = 'export.csv'"
        response = client.get(f"/evaluate/{demo.SLUG}/export/csv",
                              headers={"Sec-Fetch-Site": "same-origin"})
        response.get_data()
        with primary.connect() as conn:
            print(f"export: {response.status_code}; its audit event on the primary: "
                  f"{conn.execute(text(sql)).scalar_one()}")
        print(f"... on the replica after "
              f"{_wait_for(replica, sql.replace('count(*)', '1'), {}) * 1000:.1f} ms")
        try:
            with replica.begin() as conn:
                conn.execute(text("DELETE FROM campaign WHERE slug LIKE 'lag-%'"))
            print("the replica took a write: NOT a replica")
        except DBAPIError as exc:
            print(f"the replica refuses writes: {str(exc.orig).splitlines()[0]}")
        db.dispose(app)
        db.dispose(primary_app)
        replica.dispose()
        primary.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replica", default="postgresql+psycopg://postgres@127.0.0.1:5433/postgres")
    parser.add_argument("--commits", type=int, default=50)
    args = parser.parse_args()
    run(args.replica, args.commits)


if __name__ == "__main__":
    main()
