"""CSV and XLSX exports of N responses (default 100,000): rows/s and peak memory growth.

For each backend a scratch database gets the demo campaign plus N bulk responses
(benchmarks/bulk_data.py). Each measurement runs in a fresh child process so that its
peak RSS is its own: growth = peak RSS during the export − RSS just before it (sampled
every 5 ms from /proc/self/statm).

Baseline (same run, same child set-up): one plain SELECT of the counted responses' answer
rows, written with csv.writer to /dev/null — reading and formatting the same data with no
per-row work.

Usage: .venv/bin/python benchmarks/bench_exports.py [--responses 100000]
       [--backends sqlite postgresql] [--formats csv xlsx]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


def measure(url: str, slug: str, fmt: str) -> dict:
    """In this (fresh) process: export ``fmt`` and report rows/s and memory growth."""
    from bulk_data import make_bench_app
    from sqlmodel import select

    from survey_app.extensions import db
    from survey_app.models import Answer
    from survey_app.services import campaigns, counted_data, exports
    from survey_app.services.score_filters import ScoreFilters

    app = make_bench_app(url)
    with app.app_context():
        session = db.session
        campaign = campaigns.get_campaign(slug, session=session)
        n = len(counted_data.load_counted(campaign, session=session).response_ids) \
            if fmt == "count" else None
        if fmt == "count":
            return {"rows": n}
        session.expunge_all()
        import gc

        gc.collect()
        base = _rss()
        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], _rss())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        size = rows = 0
        if fmt == "baseline":
            ids = select(counted_data.counted_query(campaign, ScoreFilters()).subquery().c.id)
            with open(os.devnull, "w", newline="") as sink:
                writer = csv.writer(sink)
                for row in session.connection().execution_options(yield_per=5000).execute(
                        select(Answer.response_id, Answer.question_id, Answer.code,
                               Answer.number, Answer.text).where(Answer.response_id.in_(ids))):
                    writer.writerow(row)
                    rows += 1
        else:
            for chunk in exports.export_chunks(campaign, fmt, session=session):
                size += len(chunk)
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        # Only the sampled peak: ru_maxrss also holds peaks from before the export.
        peak_rss = peak[0]
        return {"format": fmt, "seconds": seconds, "bytes": size, "answer_rows": rows,
                "rss_before_mb": base / 2**20, "growth_mb": (peak_rss - base) / 2**20}


def _child(url: str, slug: str, fmt: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, slug, fmt],
                         capture_output=True, text=True, cwd=HERE, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--child", nargs=3, metavar=("URL", "SLUG", "FORMAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    from bulk_data import build_campaign, scratch_database

    for backend in args.backends:
        with scratch_database(backend) as url:
            info = build_campaign(url, args.responses)
            n = _child(url, info["slug"], "count")["rows"]
            if "table_bytes" in info:
                print(f"[{backend}] table sizes incl. indexes (bytes): {info['table_bytes']}",
                      flush=True)
            base = _child(url, info["slug"], "baseline")
            base_rate = n / base["seconds"]
            print(f"[{backend}] {n:,} counted responses; baseline (plain SELECT of "
                  f"{base['answer_rows']:,} answer rows + csv.writer): {base['seconds']:.2f} s, "
                  f"{base_rate:,.0f} responses/s, growth {base['growth_mb']:.1f} MB", flush=True)
            for fmt in args.formats:
                r = _child(url, info["slug"], fmt)
                rate = n / r["seconds"]
                print(f"[{backend}] {fmt}: {r['seconds']:.2f} s, {rate:,.0f} rows/s "
                      f"(ratio to baseline {rate / base_rate:.2f}), {r['bytes'] / 2**20:.1f} MB "
                      f"file, peak RSS growth {r['growth_mb']:.1f} MB (goal < 100 MB"
                      f"{'; rows/s goal >= 20,000' if fmt == 'csv' else ''})", flush=True)


if __name__ == "__main__":
    main()
