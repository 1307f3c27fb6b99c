"""Background job rows: written with the request's audit event, claimed by one worker at a
time, and found again when the queue never got them or their worker died.

The guarantee (what a test kills a worker to prove)
    :func:`create_job` writes the row in the request's transaction, beside its audit event:
    a rolled-back request leaves neither, a committed one both. The queue is told only
    after the commit (``survey_app.job_queue.deliver``); a row it never got (the web
    process died between the commit and the push) stays ``queued`` without
    ``enqueued_at`` and :func:`due_jobs` finds it. A worker :func:`claim_job` s the row
    (``running``, a random claim, ``attempts + 1``) and keeps ``heartbeat_at`` fresh while
    it works; every later write of the job names the claim, so a worker that lost it (taken
    for dead) changes nothing. A running job whose heartbeat is older than the lease is due
    again and the next worker claims it, up to ``JOB_MAX_ATTEMPTS`` claims. The file is
    keyed by the job's id and its content by the job's row alone (``job_runner``), so a
    retried job leaves one file, the same bytes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from survey_app.models import BackgroundJob, Campaign, JobStatus, User, as_utc
from survey_app.services import audit, audit_chain, unit_scope

KINDS = ("export", "report", "letters", "roster")
#: A user's jobs queued or running at once (``JOB_MAX_PENDING_PER_USER``): one account
#: cannot queue thousands of exports that fill the disk and hold every worker and thread.
MAX_PENDING = 4
_PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobLimitReached(RuntimeError):
    """The user already has ``max_pending`` jobs queued or running."""

    def __init__(self, max_pending: int) -> None:
        super().__init__(max_pending)
        self.max_pending = max_pending

    def message(self) -> str:
        return _("%(count)d of your files are still being prepared; ask for another once "
                 "one is ready.", count=self.max_pending)


def create_job(kind: str, params: dict[str, Any], *, session: Session, actor: User,
               campaign: Campaign | None, action: str,
               details: dict[str, Any] | None = None,
               max_pending: int = MAX_PENDING) -> BackgroundJob:
    """Write a queued job and the request's audit event ``action`` (naming the job) in the
    session's transaction; the caller commits once, then delivers the job. Refused
    (:class:`JobLimitReached`, nothing written) while ``actor`` has ``max_pending`` jobs
    queued or running."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    _check_pending(actor, max_pending, session=session)
    return _write_job(kind, params, session=session, actor=actor, campaign=campaign,
                      action=action, details=details)


def _write_job(kind: str, params: dict[str, Any], *, session: Session, actor: User,
               campaign: Campaign | None, action: str,
               details: dict[str, Any] | None) -> BackgroundJob:
    campaign_id = campaign.id if campaign is not None else None
    job = BackgroundJob(kind=kind, params=params, campaign_id=campaign_id,
                        requested_by=actor.id)
    session.add(job)
    session.flush()
    job.audit_event_id = audit.record(action, "campaign" if campaign_id else "job",
                                      campaign_id or job.id, session=session, actor=actor,
                                      campaign_id=campaign_id,
                                      details={**(details or {}), "job": job.id})
    session.add(job)
    session.flush()
    return job


def _check_pending(actor: User, max_pending: int, *, session: Session) -> None:
    # The user's row locked first (PostgreSQL): two requests of one account count in turn,
    # so both cannot pass with one slot left. SQLite's write lock already serialises them.
    session.exec(select(User.id).where(User.id == actor.id).with_for_update()).first()
    pending = session.exec(select(func.count()).select_from(BackgroundJob).where(
        BackgroundJob.requested_by == actor.id, col(BackgroundJob.status).in_(_PENDING))).one()
    if pending >= max_pending:
        raise JobLimitReached(max_pending)


def create_snapshot_job(kind: str, params: dict[str, Any], *, session: Session, actor: User,
                        campaign: Campaign, action: str, snapshot: str,
                        details: dict[str, Any],
                        max_pending: int = MAX_PENDING) -> BackgroundJob:
    """An export or report job: anchor the snapshot of what was asked for in the audit chain
    (the producer refuses other data) and write the job with its audit event, all in the
    session's transaction (``create_job``; refused before anything is anchored while the
    actor has ``max_pending`` jobs unfinished)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    _check_pending(actor, max_pending, session=session)
    head = audit_chain.anchor_snapshot(campaign.id, snapshot, session=session,
                                       label=audit.actor_label(actor), purpose=action).head
    return _write_job(kind, {**params, "snapshot": snapshot, "chain_head": head},
                      session=session, actor=actor, campaign=campaign, action=action,
                      details=details)


def claim_job(job_id: int, *, session: Session, now: datetime, lease: timedelta,
              max_attempts: int) -> str | None:
    """Claim the job for this worker; the claim id, or None when it is not this worker's to
    run (finished, failed, or running under a live claim). A job claimed ``max_attempts``
    times already is marked failed instead."""
    job = session.exec(select(BackgroundJob).where(BackgroundJob.id == job_id)
                       .with_for_update().execution_options(populate_existing=True)).first()
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        return None
    if job.status == JobStatus.RUNNING and as_utc(job.heartbeat_at) > now - lease:
        return None
    if job.attempts >= max_attempts:
        job.status, job.claim, job.error, job.finished_at = (JobStatus.FAILED, None,
                                                            "attempts", now)
        session.add(job)
        session.flush()
        return None
    claim = uuid.uuid4().hex
    job.status, job.claim, job.heartbeat_at = JobStatus.RUNNING, claim, now
    job.attempts += 1
    job.progress_done = 0
    session.add(job)
    session.flush()
    return claim


def _claimed(job_id: int, owner: str, *, session: Session, **values) -> bool:
    done = session.execute(update(BackgroundJob).where(
        BackgroundJob.id == job_id, BackgroundJob.claim == owner,
        BackgroundJob.status == JobStatus.RUNNING).values(**values))
    return done.rowcount == 1


def heartbeat(job_id: int, claim: str, *, session: Session, now: datetime) -> bool:
    """The worker is alive; whether the claim is still its own."""
    return _claimed(job_id, claim, session=session, heartbeat_at=now)


def report_progress(job_id: int, claim: str, done: int, total: int, *, session: Session,
                    now: datetime) -> bool:
    """``done`` of ``total`` steps; whether the claim is still the worker's."""
    return _claimed(job_id, claim, session=session, progress_done=done, progress_total=total,
                    heartbeat_at=now)


def finish(job_id: int, claim: str, *, session: Session, now: datetime, path: str, name: str,
           sha256: str, size: int) -> bool:
    """Record the written file; whether the claim was still the worker's."""
    return _claimed(job_id, claim, session=session, status=JobStatus.DONE, claim=None,
                    result_path=path, result_name=name, result_sha256=sha256,
                    result_size=size, finished_at=now, heartbeat_at=now,
                    progress_done=BackgroundJob.progress_total, error=None)


def fail(job_id: int, claim: str, error: str, *, session: Session, now: datetime) -> bool:
    """The work raised: failed for good (a deterministic job would raise again)."""
    return _claimed(job_id, claim, session=session, status=JobStatus.FAILED, claim=None,
                    error=error[:255], finished_at=now)


def due_jobs(*, session: Session, now: datetime, lease: timedelta,
             limit: int = 100) -> list[int]:
    """Jobs the queue must be given (again): queued ones it never got (or got more than ten
    leases ago: a Redis restarted without its data loses messages; a second delivery of a
    job still waiting in the queue is skipped by the claim), and running ones whose worker
    stopped reporting for a lease."""
    never_given = (BackgroundJob.status == JobStatus.QUEUED) & or_(
        col(BackgroundJob.enqueued_at).is_(None),
        col(BackgroundJob.enqueued_at) < now - 10 * lease)
    abandoned = (BackgroundJob.status == JobStatus.RUNNING) & (
        col(BackgroundJob.heartbeat_at) < now - lease)
    return list(session.exec(select(BackgroundJob.id).where(or_(never_given, abandoned))
                             .order_by(BackgroundJob.id).limit(limit)).all())


def mark_enqueued(job_ids: list[int], *, session: Session, now: datetime) -> None:
    if job_ids:
        session.execute(update(BackgroundJob).where(col(BackgroundJob.id).in_(job_ids))
                        .values(enqueued_at=now))


def finished_results(*, session: Session, before: datetime) -> list[tuple[int, str]]:
    """(job id, file name) of the results of jobs finished before ``before``."""
    return [tuple(row) for row in session.exec(
        select(BackgroundJob.id, BackgroundJob.result_path).where(
            BackgroundJob.status == JobStatus.DONE, col(BackgroundJob.finished_at) < before,
            col(BackgroundJob.result_path).is_not(None))).all()]


def job_for(job_id: int, user: User, *, session: Session) -> BackgroundJob | None:
    """The job if ``user`` asked for it (nobody else sees its progress or its file)."""
    job = session.get(BackgroundJob, job_id, populate_existing=True)
    if job is None or job.requested_by != user.id:
        return None
    return job


def pending_jobs(user: User, *, session: Session) -> list[BackgroundJob]:
    """The user's jobs queued or running (what :class:`JobLimitReached` counts)."""
    return list(session.exec(select(BackgroundJob).where(
        BackgroundJob.requested_by == user.id, col(BackgroundJob.status).in_(_PENDING))
        .order_by(BackgroundJob.id)).all())


def visible_job(job_id: int, user: User, *, session: Session) -> BackgroundJob | None:
    """The job if ``user`` asked for it and its campaign is still in the user's unit scope
    (anyone else: None, as for a job that does not exist)."""
    job = job_for(job_id, user, session=session)
    if job is None or job.campaign_id is None:
        return job
    campaign = session.get(Campaign, job.campaign_id)
    if campaign is None or not unit_scope.campaign_visible(user, campaign, session=session):
        return None
    return job


def recent_jobs(campaign: Campaign, user: User, *, session: Session,
                kinds: tuple[str, ...] = KINDS, limit: int = 5) -> list[BackgroundJob]:
    """The user's latest jobs of ``kinds`` for the campaign, newest first."""
    return list(session.exec(
        select(BackgroundJob).where(BackgroundJob.campaign_id == campaign.id,
                                    BackgroundJob.requested_by == user.id,
                                    col(BackgroundJob.kind).in_(kinds))
        .order_by(col(BackgroundJob.id).desc()).limit(limit)).all())


#: What a roster job's file raised when it could not be read at all (its sealed upload gone
#: or undecryptable, a parser's error the roster reader did not turn into a problem).
_ROSTER_FILE_ERRORS = frozenset({"FileNotFoundError", "InvalidTag", "RosterImportError",
                                 "FileRefused", "BadZipFile", "UnicodeDecodeError",
                                 "InvalidFileException"})


def failure_kind(job: BackgroundJob) -> str | None:
    """Why a failed job failed, in a fixed vocabulary (None: not failed). ``job.error``
    holds only the exception's class name, never its text (which may quote personal data).

    ``snapshot_changed``: the data changed between the request and the file; ``roster_file``:
    the roster file could not be read; ``interrupted``: its workers were lost, once per claim,
    up to the attempts limit; ``other``: anything else (the administrator has the log)."""
    if job.status != JobStatus.FAILED:
        return None
    if job.error == "attempts":
        return "interrupted"
    if job.error == "SnapshotChanged":
        return "snapshot_changed"
    if job.kind == "roster" and job.error in _ROSTER_FILE_ERRORS:
        return "roster_file"
    return "other"


def failure_reason(job: BackgroundJob) -> str | None:
    """What the user is told of a failed job: a reason to act on, never the error's text."""
    kind = failure_kind(job)
    if kind is None:
        return None
    if kind == "snapshot_changed":
        return _("The data changed while the file was being prepared; please ask again.")
    if kind == "roster_file":
        return _("The roster file could not be read; check it against the roster template "
                 "and upload it again.")
    if kind == "interrupted":
        return _("Interrupted (tried %(count)d times); please ask again.", count=job.attempts)
    return _("Failed; please ask again. If it fails again, give the administrator job "
             "number %(id)d.", id=job.id)


def status_document(job: BackgroundJob, *, download_url: str | None) -> dict[str, Any]:
    """What the page's progress bar polls (``reason``: a failed job's, for the user)."""
    return {"id": job.id, "kind": job.kind, "status": job.status,
            "done": job.progress_done, "total": job.progress_total,
            "attempts": job.attempts, "name": job.result_name,
            "download": download_url if job.status == JobStatus.DONE else None,
            "error": job.error, "reason": failure_reason(job)}
