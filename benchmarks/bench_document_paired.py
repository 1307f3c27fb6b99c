"""Two trees' cold scores documents, run in turn on one database: paired differences.

bench_document_cold.py times one tree; on a machine shared with other work (load 4-8 on
2 cores while this was written) its rounds differ by more than a change under test. Here
one worker process per tree loads the app, warms up, then the two workers build the same
cold document alternately (A B, then B A, ...), so each pair ran under the same load; the
script prints each tree's medians and the median of the pairs' differences B - A, of the
client's CPU seconds, of client + server CPU (PostgreSQL backend on this machine, read
from /proc as in bench_document_cold) and of wall seconds.

Usage (from benchmarks/; TREE is a checkout, e.g. ``git worktree add /tmp/main main``):
    ../.venv/bin/python bench_document_paired.py --a TREE_A --b TREE_B --url URL [--pairs 10]
SQLite: give --url-b a copy of the database file (the two workers cannot share it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()


def worker(tree: str, url: str) -> None:
    """Build the document named on each stdin line; print its seconds as JSON."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.path[:0] = [f"{tree}/benchmarks", tree]
    import importlib.util
    import time

    from bulk_data import make_bench_app

    from analysis import comments as comment_analysis
    from survey_app.extensions import db
    from survey_app.services import answer_copies, campaigns, scores
    from survey_app.services.score_filters import ScoreFilters

    # This checkout's server-CPU reader (the tree under test may predate it); its imports
    # resolve to the tree's modules, already loaded above.
    spec = importlib.util.spec_from_file_location("bench_document_cold",
                                                  HERE.parent / "bench_document_cold.py")
    cold = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cold)

    app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
    with app.app_context():
        session = db.session
        campaign = campaigns.get_campaign("heshan-2021", session=session)
        answer_copies.load_comment_segmenter()
        server = cold._server_cpu(session) or (lambda: 0.0)

        def build(weighting: str) -> dict:
            comment_analysis._segment.cache_clear()
            s0, t0, c0 = server(), time.perf_counter(), time.process_time()
            scores.scores_document(campaign, ScoreFilters(weighting=weighting), session=session)
            return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                    "server": server() - s0}

        for weighting in ("design", "raked"):
            build(weighting)
        print("ready", flush=True)
        for line in sys.stdin:
            print(json.dumps(build(line.strip())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="tree A (the baseline)")
    parser.add_argument("--b", required=True, help="tree B")
    parser.add_argument("--url", required=True)
    parser.add_argument("--url-b", help="tree B's database (default --url)")
    parser.add_argument("--pairs", type=int, default=10)
    args = parser.parse_args()
    procs = {}
    for name, tree, url in (("A", args.a, args.url), ("B", args.b, args.url_b or args.url)):
        procs[name] = subprocess.Popen(
            [sys.executable, str(HERE), "--worker", tree, url], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        if procs[name].stdout.readline().strip() != "ready":
            raise SystemExit(f"worker {name} did not start")
    runs = {(name, w): [] for name in "AB" for w in ("design", "raked")}
    loads = []
    for i in range(args.pairs):
        for weighting in ("design", "raked"):
            for name in ("AB" if i % 2 == 0 else "BA"):
                procs[name].stdin.write(weighting + "\n")
                procs[name].stdin.flush()
                runs[name, weighting].append(json.loads(procs[name].stdout.readline()))
        loads.append(os.getloadavg()[0])
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    print(f"{args.pairs} pairs, load average {min(loads):.1f}-{max(loads):.1f} "
          f"(1 min) on {os.cpu_count()} CPUs")
    for weighting in ("design", "raked"):
        for name in "AB":
            r = runs[name, weighting]
            print(f"  {weighting:<6} {name}: wall median {_median(r, 'wall'):.3f} s (best "
                  f"{min(x['wall'] for x in r):.3f}), client CPU {_median(r, 'cpu'):.3f} s, "
                  f"server CPU {_median(r, 'server'):.3f} s, client + server "
                  f"{statistics.median(x['cpu'] + x['server'] for x in r):.3f} s")
        pairs = list(zip(runs["A", weighting], runs["B", weighting], strict=True))
        diff = {k: statistics.median(b[k] - a[k] for a, b in pairs) * 1000
                for k in ("cpu", "wall")}
        both = statistics.median((b["cpu"] + b["server"]) - (a["cpu"] + a["server"])
                                 for a, b in pairs) * 1000
        print(f"  {weighting:<6} B - A, median of the pairs: client CPU {diff['cpu']:+.0f} ms, "
              f"client + server CPU {both:+.0f} ms, wall {diff['wall']:+.0f} ms")


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(x[key] for x in runs)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
