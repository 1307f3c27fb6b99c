"""The job row's life: one claim at a time, the lease, the attempts limit, the relay's
choice, and one deterministic file per job."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import job_runner, jobs
from survey_app.services.job_runner import JobSpec, RunnerSettings
from tests.factories import make_user

LEASE = timedelta(seconds=60)
T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _job(session) -> BackgroundJob:
    return jobs.create_job("export", {"format": "csv"}, session=session,
                           actor=make_user(session), campaign=None, action="export.csv")


def test_one_claim_at_a_time_and_a_dead_workers_job_is_claimed_again(session):
    job = _job(session)
    first = jobs.claim_job(job.id, session=session, now=T0, lease=LEASE, max_attempts=3)
    assert first is not None
    # A second worker (or a second delivery) while the first one reports: nothing to do.
    assert jobs.claim_job(job.id, session=session, now=T0 + timedelta(seconds=59),
                          lease=LEASE, max_attempts=3) is None
    assert jobs.heartbeat(job.id, first, session=session, now=T0 + timedelta(seconds=50))
    assert jobs.due_jobs(session=session, now=T0 + timedelta(seconds=100), lease=LEASE) == []
    # No heartbeat for a lease: due again, and the next claim takes it over.
    later = T0 + timedelta(seconds=111)
    assert jobs.due_jobs(session=session, now=later, lease=LEASE) == [job.id]
    second = jobs.claim_job(job.id, session=session, now=later, lease=LEASE, max_attempts=3)
    assert second not in (None, first)
    # The first worker, back from the dead, changes nothing any more.
    assert not jobs.report_progress(job.id, first, 5, 10, session=session, now=later)
    assert not jobs.finish(job.id, first, session=session, now=later, path="x", name="x",
                           sha256="0" * 64, size=1)
    assert jobs.finish(job.id, second, session=session, now=later, path="job-1.csv",
                       name="a.csv", sha256="1" * 64, size=2)
    session.refresh(job)
    assert (job.status, job.attempts, job.claim) == (JobStatus.DONE, 2, None)
    assert jobs.claim_job(job.id, session=session, now=later + LEASE * 2, lease=LEASE,
                          max_attempts=3) is None


def test_a_job_claimed_too_often_fails(session):
    job = _job(session)
    now = T0
    for _ in range(2):
        assert jobs.claim_job(job.id, session=session, now=now, lease=LEASE, max_attempts=2)
        now += LEASE * 2
    assert jobs.claim_job(job.id, session=session, now=now, lease=LEASE, max_attempts=2) is None
    session.refresh(job)
    assert (job.status, job.error) == (JobStatus.FAILED, "attempts")


def test_the_relay_gives_what_the_queue_never_got(session):
    job = _job(session)
    assert jobs.due_jobs(session=session, now=T0, lease=LEASE) == [job.id]
    jobs.mark_enqueued([job.id], session=session, now=T0)
    assert jobs.due_jobs(session=session, now=T0 + LEASE * 9, lease=LEASE) == []
    # Given long ago and still queued: perhaps lost with a Redis restart; given again.
    assert jobs.due_jobs(session=session, now=T0 + LEASE * 11, lease=LEASE) == [job.id]


def _zip_chunks(now: datetime):
    """An Office-like zip whose entry times and core properties say when it was written."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("a.xml", date_time=now.timetuple()[:6]), b"<a/>")
        archive.writestr(zipfile.ZipInfo("docProps/core.xml", date_time=now.timetuple()[:6]),
                         f'<cp><dcterms:created xsi:type="W3CDTF">{now:%Y-%m-%dT%H:%M:%SZ}'
                         f'</dcterms:created></cp>'.encode())
    yield buffer.getvalue()


def test_a_retried_job_writes_one_file_with_the_same_bytes(tmp_path):
    settings = RunnerSettings(files_dir=tmp_path)
    spec = JobSpec(7, "export", {}, None, T0, 1)
    (tmp_path / "job-7.deadclaim.part").write_bytes(b"half")  # a killed attempt's part
    job_runner._remove_parts(settings, 7)  # what the next claim does
    first = job_runner.write_result(spec, "a" * 32, _zip_chunks(T0 + timedelta(minutes=1)),
                                    ".xlsx", settings=settings).read_bytes()
    second = job_runner.write_result(spec, "b" * 32, _zip_chunks(T0 + timedelta(hours=2)),
                                     ".xlsx", settings=settings).read_bytes()
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == ["job-7.xlsx"]
    with zipfile.ZipFile(tmp_path / "job-7.xlsx") as archive:
        assert b"2026-12-06T08:00:00Z" in archive.read("docProps/core.xml")


@pytest.mark.parametrize("kind", ["mail", ""])
def test_unknown_kinds_are_refused(session, kind):
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.create_job(kind, {}, session=session, actor=make_user(session), campaign=None,
                        action="x")


def test_purge_removes_old_files_only(app, session, runner, tmp_path):
    app.config["JOB_FILES_DIR"] = str(tmp_path)
    old, new = _job(session), _job(session)
    for job, age in ((old, 10), (new, 1)):
        owner = jobs.claim_job(job.id, session=session, now=T0, lease=LEASE, max_attempts=3)
        jobs.finish(job.id, owner, session=session, now=datetime.now(UTC) - timedelta(days=age),
                    path=f"job-{job.id}.csv", name="a.csv", sha256="0" * 64, size=1)
        (tmp_path / f"job-{job.id}.csv").write_bytes(b"x")
    result = runner.invoke(args=["jobs", "purge", "--days", "7"])
    assert result.exit_code == 0 and "1 files removed" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"job-{new.id}.csv"]
