"""Cold scores documents (design-weighted and raked) of one campaign: median and best of N
runs, wall and CPU seconds, on a scratch database built once or on a given one.

bench_scores.py measures everything once per fresh database (and takes minutes to build
it); this script times only the two cold documents many times, so that two trees can be
compared on the same data by alternating runs (issue 18's goal: both under 1 s at 100,000
responses). "Cold" as in bench_scores: the scores cache is not used (the service is called
directly) and the comment segmentation cache is emptied before every run.

Usage (from benchmarks/):
    ../.venv/bin/python bench_document_cold.py [--responses 100000] [--backend sqlite]
                                               [--url URL --slug heshan-2021] [--runs 5]
"""

from __future__ import annotations

import os

# As survey_app/gunicorn_conf.py sets for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import statistics
import time

from bulk_data import build_campaign, make_bench_app, scratch_database

from analysis import comments as comment_analysis
from survey_app.extensions import db
from survey_app.services import answer_copies, campaigns, scores
from survey_app.services.score_filters import ScoreFilters


def measure(url: str, slug: str, runs: int) -> dict[str, tuple[float, ...]]:
    """(median wall, best wall, median CPU, best CPU) of each weighting's cold document."""
    app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
    out = {}
    with app.app_context():
        session = db.session
        campaign = campaigns.get_campaign(slug, session=session)
        answer_copies.load_comment_segmenter()  # gunicorn loads it at start-up
        for weighting in ("design", "raked"):
            walls, cpus = [], []
            for _ in range(runs):
                comment_analysis._segment.cache_clear()
                t0, c0 = time.perf_counter(), time.process_time()
                scores.scores_document(campaign, ScoreFilters(weighting=weighting),
                                       session=session)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            out[weighting] = (statistics.median(walls), min(walls), statistics.median(cpus),
                              min(cpus))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--url", help="an existing database (built by bulk_data) to time")
    parser.add_argument("--slug", default="heshan-2021")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.url:
        results = measure(args.url, args.slug, args.runs)
    else:
        with scratch_database(args.backend) as url:
            info = build_campaign(url, args.responses)
            results = measure(url, info["slug"], args.runs)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs; "
          f"{args.runs} runs")
    for weighting, (wall, best, cpu, best_cpu) in results.items():
        print(f"  document cold, {weighting:<7} wall median {wall:6.3f} s (best {best:.3f}), "
              f"CPU median {cpu:6.3f} s (best {best_cpu:.3f})  "
              f"{'under' if wall < 1 else 'OVER'} 1 s")


if __name__ == "__main__":
    main()
