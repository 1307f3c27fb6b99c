"""Background jobs: what running an export as a job costs over streaming it directly.

For each backend a scratch database gets the demo campaign plus N bulk responses
(benchmarks/bulk_data.py). Each format is exported twice in this process: directly
(``exports.export_chunks`` written to a file), then as a job (``job_queue.run_now``: claim,
progress reports every JOB_PROGRESS_ROWS rows, part file, fixed zip times for XLSX, fsync,
rename, SHA-256, finish). Best of ``--repeat`` runs each.

Usage: .venv/bin/python benchmarks/bench_jobs.py [--responses 20000]
       [--backends sqlite postgresql] [--formats csv xlsx] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bulk_data import build_campaign, make_bench_app, scratch_database
from sqlmodel import select

from survey_app import job_queue
from survey_app.extensions import db
from survey_app.models import Campaign
from survey_app.services import exports, jobs, users
from survey_app.services.demo import SLUG


def _direct(campaign, fmt: str, out: Path) -> float:
    start = time.perf_counter()
    with db.read_session() as session, open(out, "wb") as fh:
        for chunk in exports.export_chunks(session.merge(campaign), fmt, session=session):
            fh.write(chunk)
    return time.perf_counter() - start


def _as_job(campaign, fmt: str, user) -> float:
    with db.write() as session:
        job_id = jobs.create_job("export", {"format": fmt}, session=session, actor=user,
                                 campaign=campaign, action="export." + fmt).id
    start = time.perf_counter()
    assert job_queue.run_now(job_id) == "done"
    return time.perf_counter() - start


def measure(backend: str, responses: int, formats: list[str], repeat: int) -> None:
    with scratch_database(backend) as url, tempfile.TemporaryDirectory() as files:
        build_campaign(url, responses)
        app = make_bench_app(url, JOB_FILES_DIR=files, JOB_RUN_INLINE=False)
        with app.app_context():
            campaign = db.session.exec(select(Campaign).where(Campaign.slug == SLUG)).one()
            with db.write() as session:
                user = users.create_user("bench-jobs", "Qz7-timing-only-9", "evaluator",
                                         session=session)
            for fmt in formats:
                direct = min(_direct(campaign, fmt, Path(files) / f"direct.{fmt}")
                             for _ in range(repeat))
                job = min(_as_job(campaign, fmt, user) for _ in range(repeat))
                print(f"{backend:10s} {fmt:5s} direct {direct:6.2f} s   as a job {job:6.2f} s"
                      f"   overhead {100 * (job / direct - 1):5.1f} %")
        db.dispose(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for backend in args.backends:
        measure(backend, args.responses, args.formats, args.repeat)


if __name__ == "__main__":
    main()
