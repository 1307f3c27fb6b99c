"""Runs one claimed job: its producer writes a file, which becomes the job's one result.

Exactly one file
    The producer writes ``job-<id>.<claim>.part`` in ``JOB_FILES_DIR``; when it is done the
    part is made deterministic (:func:`fixed_zip_times`), flushed to disk and renamed
    (atomically, same folder) to ``job-<id>.<ext>``. A worker killed mid-job leaves at most
    a part file, removed by the next claim; the retried job writes the same bytes under the
    same name. The SHA-256 and size are recorded with the result.

While the producer runs, a thread renews the claim's heartbeat every third of the lease,
so only a dead worker's job looks abandoned (``services.jobs.due_jobs``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from survey_app.models import BackgroundJob, JobStatus, as_utc, utcnow
from survey_app.services import job_uploads, jobs

log = logging.getLogger(__name__)

Writer = Callable[[], AbstractContextManager[Session]]  # db.write, or a test's
Scope = Callable[[], AbstractContextManager]  # the row-level security scope to act in
ZIPPED = (".xlsx", ".docx", ".zip")
FEW_STEPS = 20  # a progress total up to this counts steps, not rows: each one is reported


class LostClaim(RuntimeError):
    """Another worker holds the job now (this one was taken for dead): stop."""


@dataclass(frozen=True)
class RunnerSettings:
    files_dir: Path
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 3
    progress_rows: int = 500
    step_delay: float = 0.0  # tests: seconds to pause after each progress report

    @classmethod
    def from_config(cls, config, instance_path: str) -> RunnerSettings:
        return cls(files_dir=files_dir(config, instance_path),
                   lease=timedelta(seconds=config["JOB_LEASE_SECONDS"]),
                   max_attempts=config["JOB_MAX_ATTEMPTS"],
                   progress_rows=max(1, config["JOB_PROGRESS_ROWS"]),
                   step_delay=config["JOB_TEST_STEP_DELAY_MS"] / 1000)


def files_dir(config, instance_path: str) -> Path:
    return Path(config["JOB_FILES_DIR"] or Path(instance_path) / "jobs")


@dataclass(frozen=True)
class JobSpec:
    """What a producer may know of its job (a plain copy: no session outlives the claim)."""

    id: int
    kind: str
    params: dict[str, Any]
    campaign_id: int | None
    created_at: datetime
    requested_by: int


class Progress:
    """The producer's ``progress(done, total)``: written every ``progress_rows`` steps and
    at the end, each write checking the claim (as the runner's own bookkeeping:
    ``own_rows``, not the requester's scope the producer works in)."""

    def __init__(self, spec: JobSpec, claim: str, *, write: Writer,
                 settings: RunnerSettings, own_rows: Scope = nullcontext) -> None:
        self.spec, self.claim, self.write, self.settings = spec, claim, write, settings
        self.own_rows = own_rows
        self.reported = -1

    def __call__(self, done: int, total: int) -> None:
        # Rows are reported every ``progress_rows``; a job of a few coarse steps (a roster
        # import's read, import, report) at each one, or its bar would never move.
        every = self.settings.progress_rows if total > FEW_STEPS else 1
        if done != total and 0 <= done - self.reported < every:
            return
        with self.own_rows(), self.write() as session:
            kept = jobs.report_progress(self.spec.id, self.claim, done, total,
                                        session=session, now=utcnow())
        if not kept:
            raise LostClaim(self.spec.id)
        self.reported = done
        if self.settings.step_delay:
            time.sleep(self.settings.step_delay)


class Heartbeat:
    """A thread renewing the claim until stopped; ``lost`` once the claim was taken."""

    def __init__(self, spec: JobSpec, claim: str, *, write: Writer,
                 settings: RunnerSettings, run_in_context: Callable,
                 own_rows: Scope = nullcontext) -> None:
        self.stop = threading.Event()
        self.lost = False
        period = settings.lease.total_seconds() / 3

        def beat() -> None:
            while not self.stop.wait(period):
                with own_rows(), write() as session:
                    if not jobs.heartbeat(spec.id, claim, session=session, now=utcnow()):
                        self.lost = True
                        return

        self.thread = threading.Thread(target=run_in_context, args=(beat,), daemon=True,
                                       name=f"job-{spec.id}-heartbeat")

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def result_path(settings: RunnerSettings, job_id: int, extension: str) -> Path:
    return settings.files_dir / f"job-{job_id}{extension}"


def _own_part(settings: RunnerSettings, job_id: int, claim: str) -> Path:
    return settings.files_dir / f"job-{job_id}.{claim}.part"


def _remove_parts(settings: RunnerSettings, job_id: int) -> None:
    for part in settings.files_dir.glob(f"job-{job_id}.*.part"):
        part.unlink(missing_ok=True)


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def fixed_zip_times(path: Path, stamp: datetime) -> None:
    """Rewrite an Office file or zip with every entry's time (and the document properties'
    created/modified times) set to ``stamp``, so the same job writes the same bytes."""
    date_time = as_utc(stamp).timetuple()[:6]
    iso = as_utc(stamp).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    fixed = path.with_name(path.name + ".fixed")
    with zipfile.ZipFile(path) as source, _private(fixed) as out, \
            zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(lambda m: m.group(1) + iso + m.group(3), data)
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    os.replace(fixed, path)


def _private(path: Path):
    """``path`` opened for writing, readable by this account only from the start (an
    export, or letters carrying live survey links, in a folder other accounts may list)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


def write_result(spec: JobSpec, claim: str, chunks: Iterator[bytes], extension: str, *,
                 settings: RunnerSettings) -> Path:
    """Write ``chunks`` to the part file, make it deterministic, rename it into place."""
    settings.files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = _own_part(settings, spec.id, claim)
    with _private(part) as fh:
        for chunk in chunks:
            fh.write(chunk)
    if extension in ZIPPED:
        fixed_zip_times(part, spec.created_at)
    with open(part, "rb") as fh:
        os.fsync(fh.fileno())
    final = result_path(settings, spec.id, extension)
    os.replace(part, final)
    return final


def claim(job_id: int, *, write: Writer, settings: RunnerSettings) -> tuple[JobSpec, str] | None:
    with write() as session:
        owner = jobs.claim_job(job_id, session=session, now=utcnow(), lease=settings.lease,
                               max_attempts=settings.max_attempts)
        job = session.get(BackgroundJob, job_id)
        if owner is not None:
            spec = JobSpec(job.id, job.kind, dict(job.params), job.campaign_id,
                           job.created_at, job.requested_by)
        failed = job is not None and job.status == JobStatus.FAILED
    if owner is None:
        # Failed for good (here: claimed too often, its worker lost each time): a roster's
        # sealed upload (names, ID numbers) is of no more use, as after a failed run. (Not
        # failed: another worker's live claim, whose part file stays.)
        if failed:
            _remove_parts(settings, job_id)
            job_uploads.remove(settings.files_dir, job_id)
        return None
    _remove_parts(settings, job_id)
    return spec, owner


@dataclass(frozen=True)
class JobContext:
    """What a producer works with: ``session`` reads (the read engine: no SQLite write lock
    while it works); a job that writes (a roster import) opens ``write()`` itself."""

    session: Session
    progress: Callable[[int, int], None]
    write: Writer
    config: Mapping[str, Any]
    files_dir: Path


# A producer: (spec, context) -> (download name, extension, chunks).
Producer = Callable[[JobSpec, JobContext], tuple[str, str, Iterator[bytes]]]


def run_job(job_id: int, *, write: Writer, read: Writer, settings: RunnerSettings,
            producers: dict[str, Producer], run_in_context: Callable,
            config: Mapping[str, Any], own_rows: Scope = nullcontext,
            acting_for: Callable[[JobSpec], AbstractContextManager] = lambda _spec: nullcontext(),
            ) -> str:
    """Claim and run the job; ``done``, ``failed``, ``lost_claim`` or ``skipped``.

    Row-level security (``survey_app.row_security``): the job's own row is read and
    written in ``own_rows()`` (every unit), the producer works in ``acting_for(spec)`` (its
    requester's unit scope), so it reads and writes only what the requester could."""
    with own_rows():
        claimed = claim(job_id, write=write, settings=settings)
    if claimed is None:
        return "skipped"
    spec, owner = claimed
    progress = Progress(spec, owner, write=write, settings=settings, own_rows=own_rows)
    try:
        with Heartbeat(spec, owner, write=write, settings=settings,
                       run_in_context=run_in_context, own_rows=own_rows) as beat, \
                acting_for(spec), read() as session:
            context = JobContext(session, progress, write, config, settings.files_dir)
            name, extension, chunks = producers[spec.kind](spec, context)
            path = write_result(spec, owner, chunks, extension, settings=settings)
        if beat.lost:
            raise LostClaim(job_id)
    except LostClaim:
        _own_part(settings, job_id, owner).unlink(missing_ok=True)
        return "lost_claim"
    except Exception as exc:  # the job's failure is recorded, the worker goes on
        # Redacted, traceback and all (log_redaction.install): a database error's detail
        # or a file's parse error may quote a value (an ID number, a phone) of the data.
        log.error("job %s (%s) failed: %s", job_id, spec.kind, type(exc).__name__,
                  exc_info=exc)
        _own_part(settings, job_id, owner).unlink(missing_ok=True)
        with own_rows(), write() as session:
            failed = jobs.fail(job_id, owner, type(exc).__name__, session=session,
                               now=utcnow())
        if failed:  # for good: a roster's sealed upload (names, ID numbers) is of no more use
            job_uploads.remove(settings.files_dir, job_id)
        return "failed"
    with own_rows(), write() as session:
        kept = jobs.finish(job_id, owner, session=session, now=utcnow(), path=path.name,
                           name=name, sha256=_sha256(path), size=path.stat().st_size)
    return "done" if kept else "lost_claim"
