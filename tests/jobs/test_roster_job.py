"""A large roster is imported by a background job: the upload waits sealed, the import is
all or nothing, a retry after the commit imports nothing twice, and the report is a CSV."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from survey_app import job_queue
from survey_app.models import BackgroundJob, Household, JobStatus, Role
from tests.factories import login, make_campaign, make_user
from tests.services import rosters


@pytest.fixture
def roster_app(make_app, tmp_path):
    # Every roster goes to a job here (over 1 byte).
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_ROSTER_BYTES=1, JOB_LEASE_SECONDS=600)


def _upload(client, slug: str, data: bytes):
    return client.post(f"/admin/campaigns/{slug}/roster",
                       data={"roster": (io.BytesIO(data), "名册.csv")},
                       content_type="multipart/form-data")


def _report(client, job_id: int) -> list[list[str]]:
    answer = client.get(f"/evaluate/jobs/{job_id}/download")
    text = answer.get_data().decode("utf-8-sig")
    answer.close()
    return list(csv.reader(io.StringIO(text)))


def _households(session, campaign) -> int:
    return session.exec(select(func.count()).select_from(Household).where(
        Household.campaign_id == campaign.id)).one()


def test_large_roster_is_imported_by_a_job_once(roster_app, tmp_path):
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        session = db.session
        campaign = make_campaign(session, slug="big")
        login(client, make_user(session, Role.ADMIN))
        table = rosters.rows(40)
        data = rosters.csv_text(table).encode("utf-8")
        answer = _upload(client, "big", data)
        assert answer.status_code == 302 and "/admin/campaigns/big#job-" in \
            answer.headers["Location"]
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        sealed = (tmp_path / f"job-{job_id}.upload").read_bytes()
        assert rosters.phone(2).encode() not in sealed and data not in sealed
        assert _households(session, campaign) == 0  # not yet: the job imports

        assert job_queue.run_now(job_id) == "done"
        assert _households(session, campaign) == 40
        assert _report(client, job_id)[1][:2] == ["imported", "40"]
        assert not (tmp_path / f"job-{job_id}.upload").exists()

        # The job run again (a worker died after the commit): nothing imported twice.
        session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
            status=JobStatus.QUEUED, attempts=0, claim=None))
        assert job_queue.run_now(job_id) == "done"
        assert _households(session, campaign) == 40
        assert _report(client, job_id)[1][:2] == ["imported", "40"]

        # The same file again: refused as a whole, each problem in the report.
        answer = _upload(client, "big", data)
        second = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        assert job_queue.run_now(second) == "done"
        report = _report(client, second)
        assert report[1][0] == "refused" and len(report) > 2
        assert _households(session, campaign) == 40


def test_a_roster_job_claimed_too_often_leaves_no_sealed_upload(roster_app, tmp_path):
    """Retries exhausted (each worker lost): the claim marks it failed, not the run's
    failure path, and its sealed upload (names, ID numbers) goes all the same."""
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        session = db.session
        campaign = make_campaign(session, slug="lost")
        login(client, make_user(session, Role.ADMIN))
        answer = _upload(client, "lost", rosters.csv_text(rosters.rows(5)).encode("utf-8"))
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        upload = tmp_path / f"job-{job_id}.upload"
        assert upload.exists()
        session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
            attempts=roster_app.config["JOB_MAX_ATTEMPTS"]))

        assert job_queue.run_now(job_id) == "skipped"
        job = session.get(BackgroundJob, job_id, populate_existing=True)
        assert (job.status, job.error) == (JobStatus.FAILED, "attempts")
        assert not upload.exists()
        assert _households(session, campaign) == 0
