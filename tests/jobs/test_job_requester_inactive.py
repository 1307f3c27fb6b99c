"""A job runs for its requester: once the account is deactivated (a worker leaving, an
evaluator's contract ended), its queued export fails instead of writing a file of data the
account may no longer read; the job's reason is the generic one (nobody reads it)."""

from __future__ import annotations

import pytest

from survey_app import job_queue
from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import demo, jobs
from tests.factories import login, make_user

pytestmark = pytest.mark.demo_data


@pytest.fixture
def job_app(make_app, tmp_path):
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_LEASE_SECONDS=600)


def test_a_deactivated_requesters_job_fails_and_writes_no_file(job_app, tmp_path):
    client = job_app.test_client()
    with job_app.app_context():
        from survey_app.extensions import db

        session = db.session
        user = make_user(session)
        login(client, user)
        started = client.post(f"/evaluate/{demo.SLUG}/jobs/export/csv")
        job_id = int(started.headers["Location"].rsplit("#job-", 1)[1])
        user.active = False
        session.add(user)
        session.flush()
        assert job_queue.run_now(job_id) == "failed"
        job = session.get(BackgroundJob, job_id, populate_existing=True)
        assert job.status == JobStatus.FAILED and job.error == "RequesterInactive"
        assert jobs.failure_kind(job) == "other"
        assert job.result_name is None
        assert not [p for p in tmp_path.rglob("*") if p.is_file()]
