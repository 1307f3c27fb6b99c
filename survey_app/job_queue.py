"""Handing committed background jobs to the queue, and running them.

With ``SURVEY_JOB_REDIS_URL`` a job is an RQ job on Redis (queue ``JOB_QUEUE_NAME``) that
``survey-app jobs worker`` runs in its own process. Without it (the SQLite pilot's
``make run``) the web process runs each job in a thread of its own ("inline"): no other
process, and a job cut off by a server stop is run again when its page next asks for it.

Either way the database row is the truth (``services.jobs``): the queue carries only job
ids, a job is given to it after the request's commit, and the relay (:func:`relay_pass`,
every third of a lease in the worker) gives it again whatever it never got or whose
worker died. Nothing here is imported by resident or entry pages; RQ only by the worker
and by :func:`deliver`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from flask import Flask, current_app

from survey_app import row_security
from survey_app.extensions import db
from survey_app.models import BackgroundJob, JobStatus, User, as_utc, utcnow
from survey_app.services import jobs
from survey_app.services.job_runner import JobSpec, RunnerSettings

log = logging.getLogger(__name__)
# RQ's own timeout would kill a long export; liveness is the lease's job (services.jobs).
RQ_JOB_TIMEOUT = 24 * 3600
_worker_app: Flask | None = None  # the app a worker process runs its jobs in


def runner_settings(app: Flask) -> RunnerSettings:
    return RunnerSettings.from_config(app.config, app.instance_path)


def _in_context(app: Flask) -> Callable[[Callable[[], None]], None]:
    def run(fn: Callable[[], None]) -> None:
        with app.app_context():
            fn()
    return run


def _all_units():
    return row_security.acting_as(row_security.ALL_UNITS)


class RequesterInactive(RuntimeError):
    """The job's requester was deactivated (or deleted) after asking: the job fails rather
    than export, for an account that may no longer read, what it could read then."""


def _acting_for(spec: JobSpec):
    """The job's requester's scope: a county user's job reads and writes that county only,
    whichever process runs it; a job whose requester is gone or deactivated fails
    (:class:`RequesterInactive`), on SQLite too, which has no row security."""
    with db.read_session() as session:
        user = session.get(User, spec.requested_by)
        if user is None or not user.active:
            raise RequesterInactive(spec.requested_by)
        path = row_security.path_for(user, session=session)
    return row_security.acting_as(path)


def run_now(job_id: int) -> str:
    """Run the job here (claim, produce, record); its outcome (``job_runner.run_job``)."""
    from survey_app.services import job_kinds, job_runner

    app = current_app._get_current_object()
    return job_runner.run_job(job_id, write=db.write, read=db.read_session,
                              settings=runner_settings(app), producers=job_kinds.PRODUCERS,
                              run_in_context=_in_context(app), config=app.config,
                              own_rows=_all_units, acting_for=_acting_for)


def perform(job_id: int) -> str:
    """The RQ job's function: run the job in a fresh app context of the worker's app."""
    app = _worker_app
    if app is None:  # a plain `rq worker`: build the app once per process
        from survey_app import create_app

        app = bind_worker_app(create_app())
    with app.app_context():
        return run_now(job_id)


def bind_worker_app(app: Flask) -> Flask:
    global _worker_app
    _worker_app = app
    return app


def _queue(app: Flask):
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["JOB_REDIS_URL"])
    return Queue(app.config["JOB_QUEUE_NAME"], connection=connection)


def _start_inline(app: Flask, job_id: int) -> None:
    def run() -> None:
        with app.app_context():
            run_now(job_id)

    threading.Thread(target=run, daemon=True, name=f"job-{job_id}").start()


def deliver(job_ids: list[int]) -> list[int]:
    """Give committed jobs to the queue (or start them inline) and note when; the ids
    given. A queue that cannot be reached leaves them to the relay."""
    app = current_app._get_current_object()
    if not job_ids:
        return []
    if app.config["JOB_REDIS_URL"]:
        try:
            queue = _queue(app)
            for job_id in job_ids:
                queue.enqueue("survey_app.job_queue.perform", job_id,
                              job_id=f"survey-job-{job_id}-{uuid.uuid4().hex[:8]}",
                              job_timeout=RQ_JOB_TIMEOUT, result_ttl=3600, failure_ttl=86400)
        except Exception:  # Redis down: the relay gives them again (enqueued_at NULL)
            log.exception("job queue unreachable; jobs %s left to the relay", job_ids)
            return []
    elif app.config["JOB_RUN_INLINE"]:
        for job_id in job_ids:
            _start_inline(app, job_id)
    else:
        return []
    with db.write() as session:
        jobs.mark_enqueued(job_ids, session=session, now=utcnow())
    return job_ids


def relay_pass() -> list[int]:
    """Give the queue every job it must run (again): see ``services.jobs.due_jobs``."""
    app = current_app._get_current_object()
    with _all_units():  # the worker's own bookkeeping: every requester's jobs
        with db.write() as session:
            due = jobs.due_jobs(session=session, now=utcnow(),
                                lease=runner_settings(app).lease)
        return deliver(due)


def nudge(job: BackgroundJob) -> None:
    """Inline mode: a job whose thread died with its server is started again when its page
    asks for it (a worker's relay does this with a queue)."""
    app = current_app._get_current_object()
    if app.config["JOB_REDIS_URL"]:
        return
    lease = runner_settings(app).lease
    # A queued job given to a thread a lease ago and still unclaimed: its server stopped.
    stale = (job.status == JobStatus.QUEUED and (
        job.enqueued_at is None or as_utc(job.enqueued_at) < utcnow() - lease)) or (
        job.status == JobStatus.RUNNING and as_utc(job.heartbeat_at) < utcnow() - lease)
    if stale:
        deliver([job.id])


def nudge_pending(user) -> None:
    """Inline mode: the user's unfinished jobs whose thread died are started again. Called
    when the user is refused another job (``JobLimitReached``), so jobs cut off by a server
    stop, perhaps listed on no page the user has open, cannot lock them out for good."""
    for job in jobs.pending_jobs(user, session=db.session):
        nudge(job)
