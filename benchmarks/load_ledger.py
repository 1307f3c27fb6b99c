"""The long load-with-a-ledger and crash run against gunicorn (short versions: tests/reliability).

For each backend: a scratch database (fresh SQLite file in WAL mode, or a new PostgreSQL
database) holding one open campaign; gunicorn with ``--workers`` workers started by
tests/reliability/harness.GunicornServer; ``--residents`` simulated residents submit the
open-link survey for ``--seconds`` (20 % of submissions retried 1–3 times as if the
acknowledgement was lost, 5 % sent twice in parallel), while the whole gunicorn process
group is SIGKILLed ``--kills`` times at random moments and restarted at once.

Printed per backend (the figures recorded in docs/RELIABILITY.md): attempts, retries,
parallel doubles, acknowledged submissions, rows stored, lost (acknowledged, not stored),
duplicated, unacknowledged but stored (the acknowledgement died with a killed server),
5xx, "database is locked" errors, connection errors (from the kills), orphan answers,
complete responses without answers, PRAGMA integrity_check, latency percentiles.
Exit status 1 when any pass criterion fails.

Usage: .venv/bin/python benchmarks/load_ledger.py [--backends sqlite postgresql]
       [--residents 50] [--seconds 120] [--workers 4] [--kills 3] [--seed 2026]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app.db import make_engine  # noqa: E402
from survey_app.migrate import upgrade  # noqa: E402
from tests.fixtures.databases import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
)
from tests.reliability.harness import (  # noqa: E402
    GunicornServer,
    Ledger,
    database_integrity,
    prepare_open_campaign,
    run_load,
)

SLUG = "load-ledger"


def _database_figures(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT instance_id FROM response WHERE mode = 'web_open'")) \
            .scalars().all()
        journal = conn.execute(text("PRAGMA journal_mode")).scalar_one() \
            if url.startswith("sqlite") else "n/a"
    engine.dispose()
    found = database_integrity(url)
    integrity = found.sqlite_integrity if url.startswith("sqlite") else "n/a (PostgreSQL)"
    return {"ids": ids, "orphans": found.orphan_answers,
            "empty": found.complete_without_answers, "integrity": integrity,
            "journal": journal}


def run_backend(url: str, args: argparse.Namespace) -> bool:
    prepare_open_campaign(url, SLUG, "长时压力测试")
    server = GunicornServer(url, workers=args.workers)
    server.start()
    ledger = Ledger()
    load = threading.Thread(target=run_load, args=(server.base_url, SLUG), kwargs={
        "residents": args.residents, "seconds": args.seconds, "seed": args.seed,
        "ledger": ledger})
    rng = random.Random(args.seed)  # noqa: S311 - when to kill, not security
    # Kill moments spread over the run (never in the last 10 %, so the end is measured).
    moments = sorted(rng.uniform(0.05, 0.9) * args.seconds for _ in range(args.kills))
    started = time.monotonic()
    load.start()
    restarts = []
    try:
        for moment in moments:
            time.sleep(max(0.0, started + moment - time.monotonic()))
            server.kill_hard()
            t0 = time.monotonic()
            server.start(timeout=60)
            restarts.append((round(moment, 1), round(time.monotonic() - t0, 2)))
        load.join()
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    figures = _database_figures(url)
    stored = Counter(figures["ids"])
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    lost = ledger.acknowledged - set(stored)
    unacknowledged = set(stored) - ledger.acknowledged
    locked = [e for e in ledger.errors if "locked" in e.lower()]
    connection_errors = [e for e in ledger.errors if not e[:3].isdigit()]
    lat = np.array(ledger.latencies or [0.0])
    print(f"backend: {url.split(':', 1)[0]}  (journal_mode: {figures['journal']})")
    print(f"  residents {args.residents}, {args.seconds:.0f} s requested, {elapsed:.1f} s "
          f"elapsed, gunicorn workers {args.workers}")
    print(f"  SIGKILLs of the process group at s (restart took s): {restarts}")
    print(f"  submissions attempted {ledger.attempts}, retries {ledger.retries}, "
          f"parallel doubles {ledger.parallel_doubles}")
    print(f"  HTTP statuses: {dict(sorted(ledger.statuses.items()))}")
    print(f"  acknowledged {len(ledger.acknowledged)}, rows stored {len(figures['ids'])}, "
          f"lost {len(lost)}, duplicated {duplicated}, stored but unacknowledged "
          f"{len(unacknowledged)}")
    print(f"  5xx {ledger.server_errors}, 'database is locked' {len(locked)}, connection "
          f"errors (killed mid-request) {len(connection_errors)}")
    print(f"  orphan answers {figures['orphans']}, complete responses without answers "
          f"{figures['empty']}, integrity_check {figures['integrity']}")
    print(f"  POST latency s: median {np.median(lat):.3f}, p95 {np.percentile(lat, 95):.3f}, "
          f"p99 {np.percentile(lat, 99):.3f}, max {lat.max():.3f}")
    ok = (not lost and duplicated == 0 and ledger.server_errors == 0 and not locked
          and figures["orphans"] == 0 and figures["empty"] == 0
          and figures["integrity"] in ("ok", "n/a (PostgreSQL)") and len(ledger.acknowledged) > 0)
    print(f"  PASS: {ok}")
    for error in ledger.errors[:5]:
        print(f"    e.g. {error}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    results = []
    for backend in args.backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="load-ledger-") as tmp:
                url = f"sqlite:///{tmp}/load.db"
                upgrade(url)
                results.append(run_backend(url, args))
        else:
            url = create_postgres_database("load_ledger")
            try:
                upgrade(url)
                results.append(run_backend(url, args))
            finally:
                drop_postgres_database(url)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
