"""Cold scores documents (design-weighted and raked) of one campaign: median and best of N
runs, wall and CPU seconds, on a scratch database built once or on a given one.

bench_scores.py measures everything once per fresh database (and takes minutes to build
it); this script times only the two cold documents many times, so that two trees can be
compared on the same data by alternating runs (issue 18's goal: both under 1 s at 100,000
responses). "Cold" as in bench_scores: the scores cache is not used (the service is called
directly) and the comment segmentation cache is emptied before every run. On a PostgreSQL
server on the same machine it also prints the server backend's CPU seconds (from /proc):
on a machine shared with other work, client CPU + server CPU is what a quiet run's wall
time would be (less the socket's few milliseconds).

``--source sums`` times the documents read from the stored sums (issue 23 item 4,
services/sums_source.py) after refreshing them once (the refresh is timed too: the job
worker's cost per changed campaign); ``rows`` from the counted response rows; ``both``
(default) one after the other on the same data.

Usage (from benchmarks/):
    ../.venv/bin/python bench_document_cold.py [--responses 100000] [--backend sqlite]
                                               [--url URL --slug heshan-2021] [--runs 5]
                                               [--source both|rows|sums]
"""

from __future__ import annotations

import os

# As survey_app/gunicorn_conf.py sets for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import statistics
import time
from pathlib import Path

from bulk_data import build_campaign, make_bench_app, scratch_database
from sqlalchemy import text

from analysis import comments as comment_analysis
from survey_app import row_security
from survey_app.extensions import db
from survey_app.services import answer_copies, campaigns, category_counts, scores
from survey_app.services.score_filters import ScoreFilters


def _server_cpu(session):
    """A function returning the CPU seconds so far of this session's PostgreSQL backend
    (from /proc, so only for a server on this machine); None on SQLite or elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return seconds


def refresh_sums(url: str, slug: str) -> float:
    """Refresh the campaign's stored sums (as the job worker does); the seconds it took."""
    app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
    with (app.app_context(), row_security.acting_as(row_security.ALL_UNITS),
          db.write() as session):
        campaign = campaigns.get_campaign(slug, session=session)
        t0 = time.perf_counter()
        category_counts.refresh([campaign], session=session, force=True)
        return time.perf_counter() - t0


def measure(url: str, slug: str, runs: int,
            rows: bool = False) -> dict[str, tuple[float, ...]]:
    """(median wall, best wall, median CPU, best CPU, median server CPU or NaN) of each
    weighting's cold document (``rows``: read from the response rows)."""
    app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
    out = {}
    with app.app_context():
        session = db.session
        campaign = campaigns.get_campaign(slug, session=session)
        answer_copies.load_comment_segmenter()  # gunicorn loads it at start-up
        # The server's CPU time: under other processes' load the wall time mostly says how
        # long the benchmark waited for a core; client + server CPU is the quiet figure.
        server_cpu = _server_cpu(session)
        for weighting in ("design", "raked"):
            walls, cpus, servers = [], [], []
            for _ in range(runs):
                comment_analysis._segment.cache_clear()
                s0 = server_cpu() if server_cpu else 0.0
                t0, c0 = time.perf_counter(), time.process_time()
                scores.scores_document(campaign, ScoreFilters(weighting=weighting),
                                       session=session, rows=rows)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                servers.append(server_cpu() - s0 if server_cpu else float("nan"))
            out[weighting] = (statistics.median(walls), min(walls), statistics.median(cpus),
                              min(cpus), statistics.median(servers))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--url", help="an existing database (built by bulk_data) to time")
    parser.add_argument("--slug", default="heshan-2021")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", default="both", choices=["both", "rows", "sums"])
    args = parser.parse_args()
    if args.url:
        _report(args, args.url, args.slug)
    else:
        with scratch_database(args.backend) as url:
            _report(args, url, build_campaign(url, args.responses)["slug"])


def _report(args, url: str, slug: str) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs; "
          f"{args.runs} runs")
    for source in (("rows", "sums") if args.source == "both" else (args.source,)):
        if source == "sums":
            print(f"  refresh of the stored sums (job worker, once): "
                  f"{refresh_sums(url, slug):6.3f} s")
        results = measure(url, slug, args.runs, rows=source == "rows")
        for weighting, (wall, best, cpu, best_cpu, server) in results.items():
            server_text = "" if math.isnan(server) else (
                f", server CPU median {server:5.3f} s (client + server {cpu + server:5.3f} s)")
            print(f"  {source}: document cold, {weighting:<7} wall median {wall:6.3f} s "
                  f"(best {best:.3f}), CPU median {cpu:6.3f} s (best {best_cpu:.3f})"
                  f"{server_text}  {'under' if wall < 1 else 'OVER'} 1 s")


if __name__ == "__main__":
    main()
