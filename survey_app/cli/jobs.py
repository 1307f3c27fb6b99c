"""``survey-app jobs worker|relay|run|list``: the background job worker and its helpers."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.extensions import db


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: exports, the Word report, letters, roster imports."""


def _relay_forever(app, period: float, stop: threading.Event) -> None:
    from survey_app import job_queue, row_security
    from survey_app.services import category_counts

    while not stop.wait(period):
        try:
            with app.app_context():
                job_queue.relay_pass()
                # The roll-ups' category counts of campaigns changed since the last pass
                # (services.category_counts): kept here, off the resident's path. Every
                # county's: this thread's app context has no scope (it would see no change).
                with row_security.acting_as(row_security.ALL_UNITS), db.write() as session:
                    category_counts.refresh_pending(session=session)
        except Exception:  # the database or Redis away a moment: try again next period
            app.logger.exception("job relay pass failed")


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then exit.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run background jobs from the RQ queue on SURVEY_JOB_REDIS_URL (one job at a time;
    start several workers for more). Safe to kill at any moment: a killed worker's job is
    claimed again once its lease (SURVEY_JOB_LEASE_SECONDS) has run out, by this worker
    restarted or another, and leaves one file (services/jobs.py)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from survey_app import job_queue

    app = current_app._get_current_object()
    url = app.config["JOB_REDIS_URL"]
    if not url:
        raise click.UsageError("SURVEY_JOB_REDIS_URL is not set: jobs run inline in the "
                               "web process (see README, Background jobs).")
    job_queue.bind_worker_app(app)
    job_queue.relay_pass()  # what the queue lost while no worker ran
    stop = threading.Event()
    period = job_queue.runner_settings(app).lease.total_seconds() / 3
    threading.Thread(target=_relay_forever, args=(app, period, stop), daemon=True,
                     name="job-relay").start()
    connection = Redis.from_url(url)
    # SimpleWorker: the job runs in this process, in the app built once at start (the
    # forking worker would rebuild database pools in every child).
    worker = SimpleWorker([Queue(app.config["JOB_QUEUE_NAME"], connection=connection)],
                          connection=connection)
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        stop.set()


@jobs_group.command("relay")
@with_appcontext
def relay_command() -> None:
    """Give the queue the jobs it never got and those of dead workers, once."""
    from survey_app import job_queue

    given = job_queue.relay_pass()
    click.echo(f"jobs: {len(given)} given to the queue")


@jobs_group.command("run")
@click.argument("job_id", type=int)
@with_appcontext
def run_command(job_id: int) -> None:
    """Run one job in this process (no queue), e.g. after fixing what made it fail."""
    from survey_app import job_queue
    from survey_app.models import BackgroundJob

    if db.session.get(BackgroundJob, job_id) is None:
        raise click.ClickException(f"no job {job_id} (survey-app jobs list shows them)")
    click.echo(f"job {job_id}: {job_queue.run_now(job_id)}")


@jobs_group.command("purge")
@click.option("--days", default=7, show_default=True,
              help="Remove the files of jobs finished longer ago than this.")
@with_appcontext
def purge_command(days: int) -> None:
    """Remove old job files (exports, reports, letters with live links); their rows, audit
    events and SHA-256 stay, and their download answers 410 (ask again)."""
    from datetime import timedelta

    from survey_app.models import utcnow
    from survey_app.services import jobs
    from survey_app.services.job_runner import files_dir

    folder = files_dir(current_app.config, current_app.instance_path)
    removed = 0
    for _job_id, name in jobs.finished_results(session=db.session,
                                              before=utcnow() - timedelta(days=days)):
        path = folder / name
        if path.exists():
            path.unlink()
            removed += 1
    click.echo(f"jobs: {removed} files removed")


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True, help="How many of the latest jobs.")
@with_appcontext
def list_command(limit: int) -> None:
    """The latest jobs: id, kind, status, progress, attempts, file."""
    from sqlmodel import col, select

    from survey_app.models import BackgroundJob

    rows = db.session.exec(select(BackgroundJob).order_by(col(BackgroundJob.id).desc())
                           .limit(limit)).all()
    for job in rows:
        click.echo(f"{job.id}\t{job.kind}\t{job.status}\t{job.progress_done}/"
                   f"{job.progress_total}\t{job.attempts}\t{job.result_path or ''}")
