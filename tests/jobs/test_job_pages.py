"""Exports and the report as background jobs: the job row and the request's audit event in
one transaction, progress and the download for the requester only, the file equal to the
synchronous export."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from survey_app import job_queue
from survey_app.models import AuditEvent, BackgroundJob, JobStatus
from survey_app.services import demo
from tests.factories import login, make_user

pytestmark = pytest.mark.demo_data


@pytest.fixture
def job_app(make_app, tmp_path):
    """An app whose jobs stay queued (the test runs them itself: TEST_SETTINGS)."""
    return make_app(JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_LEASE_SECONDS=600)


def _start(client, path: str) -> BackgroundJob:
    answer = client.post(path)
    assert answer.status_code == 302
    assert "#job-" in answer.headers["Location"]
    job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
    from survey_app.extensions import db

    return db.session.get(BackgroundJob, job_id)


def test_export_job_is_audited_runs_and_downloads_for_its_requester_only(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        from survey_app.extensions import db

        session = db.session
        owner, other = make_user(session), make_user(session)
        login(client, owner)
        job = _start(client, f"/evaluate/{demo.SLUG}/jobs/export/csv")
        assert job.status == JobStatus.QUEUED and job.enqueued_at is None  # not run inline
        event = session.get(AuditEvent, job.audit_event_id)
        assert event.action == "export.csv" and event.details["job"] == job.id
        assert event.actor_id == owner.id
        status = client.get(f"/evaluate/jobs/{job.id}").get_json()
        assert status["status"] == "queued" and status["download"] is None
        assert client.get(f"/evaluate/jobs/{job.id}/download").status_code == 404

        assert job_queue.run_now(job.id) == "done"
        status = client.get(f"/evaluate/jobs/{job.id}").get_json()
        assert status["status"] == "done" and status["done"] == status["total"] > 0
        download = client.get(status["download"])
        assert download.status_code == 200
        assert "heshan-2021-responses.csv" in download.headers["Content-Disposition"]
        synchronous = client.get(f"/evaluate/{demo.SLUG}/export/csv").data
        assert download.data == synchronous
        download.close()
        job = session.get(BackgroundJob, job.id, populate_existing=True)
        assert job.result_sha256 == hashlib.sha256(download.data).hexdigest()
        assert job.attempts == 1

        # Another evaluator: the job does not exist for them.
        client.post("/auth/logout")
        login(client, other)
        assert client.get(f"/evaluate/jobs/{job.id}").status_code == 404
        assert client.get(f"/evaluate/jobs/{job.id}/download").status_code == 404


def test_dashboard_lists_the_users_jobs_with_a_progress_bar(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        from survey_app.extensions import db

        owner = make_user(db.session)
        login(client, owner)
        job = _start(client, f"/evaluate/{demo.SLUG}/jobs/report")
        page = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
        assert f'id="job-{job.id}"' in page and "<progress" in page
        assert "jobs.js" in page
        assert job_queue.run_now(job.id) == "done"
        job = db.session.get(BackgroundJob, job.id, populate_existing=True)
        assert job.result_name == "heshan-2021-report.docx"
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.id == job.audit_event_id)).one()
        assert event.action == "export.report"
        download = client.get(f"/evaluate/jobs/{job.id}/download")
        assert download.data[:2] == b"PK"
        download.close()


def test_unknown_format_and_missing_token_are_refused(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        from survey_app.extensions import db

        login(client, make_user(db.session))
        assert client.post(f"/evaluate/{demo.SLUG}/jobs/export/pdf").status_code == 404
        assert db.session.exec(select(BackgroundJob)).all() == []
