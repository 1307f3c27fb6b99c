"""kill -9 of the worker in the middle of an export: the restarted worker runs the job again
and leaves exactly one file, identical to an uninterrupted run of the same job."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session

from survey_app import create_app, job_queue
from survey_app.extensions import db
from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import demo
from tests.factories import login, make_user
from tests.fixtures.settings import TEST_SETTINGS
from tests.jobs.worker_process import app_config, job_settings, require_redis, wait_for, workers

pytestmark = pytest.mark.slow


def _job(engine, job_id: int) -> BackgroundJob:
    with Session(engine) as session:
        return session.get(BackgroundJob, job_id)


def test_killed_worker_job_is_retried_and_leaves_one_identical_file(fresh_demo_database_url,
                                                                    tmp_path):
    require_redis()
    files = tmp_path / "jobs"
    # A slow job (a pause after every 50 rows of 530) with a short lease, so the worker is
    # killed mid-export and its job is found abandoned two seconds later.
    settings = job_settings(fresh_demo_database_url, files, JOB_LEASE_SECONDS="2",
                            JOB_PROGRESS_ROWS="50", JOB_TEST_STEP_DELAY_MS="250")
    app = create_app({**TEST_SETTINGS, **app_config(settings)})
    engine = create_engine(fresh_demo_database_url)
    try:
        client = app.test_client()
        with app.app_context():
            user = make_user(db.session)
            db.session.commit()
        login(client, user)
        answer = client.post(f"/evaluate/{demo.SLUG}/jobs/export/xlsx")
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        assert _job(engine, job_id).enqueued_at is not None  # handed to Redis

        with workers(settings, tmp_path) as pool:
            first = pool.start()
            wait_for(lambda: _job(engine, job_id).progress_done >= 100, timeout=60,
                     what="the export to be under way", pool=pool)
            pool.kill(first)
            killed = _job(engine, job_id)
            assert killed.status == JobStatus.RUNNING and killed.attempts == 1
            assert killed.progress_done < killed.progress_total
            assert not (files / f"job-{job_id}.xlsx").exists()

            pool.start()
            wait_for(lambda: _job(engine, job_id).status == JobStatus.DONE, timeout=90,
                     what="the job to be run again and finish", pool=pool)

        done = _job(engine, job_id)
        assert done.attempts == 2
        assert sorted(p.name for p in files.iterdir()) == [f"job-{job_id}.xlsx"]  # no part
        retried = (files / done.result_path).read_bytes()
        assert hashlib.sha256(retried).hexdigest() == done.result_sha256
        assert len(retried) == done.result_size

        # The same job run again, uninterrupted, in this process: the same bytes.
        with engine.begin() as conn:
            conn.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
                status=JobStatus.QUEUED, attempts=0, claim=None))
        with app.app_context():
            assert job_queue.run_now(job_id) == "done"
        assert (files / done.result_path).read_bytes() == retried
        assert sorted(p.name for p in files.iterdir()) == [f"job-{job_id}.xlsx"]
    finally:
        engine.dispose()
        db.dispose(app)
