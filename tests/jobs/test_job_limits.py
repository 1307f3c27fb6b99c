"""One account cannot flood the job queue: while it has JOB_MAX_PENDING_PER_USER jobs queued
or running, asking for another (an export, the report, letters, a large roster) is refused
with nothing written (no job, no audit event, no sealed upload); another account is not
held up, and a finished job frees its slot."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey_app import job_queue
from survey_app.models import AuditEvent, BackgroundJob, Role
from survey_app.services import demo, jobs
from tests.factories import login, make_user
from tests.services import rosters

pytestmark = pytest.mark.demo_data


@pytest.fixture
def limited_app(make_app, tmp_path):
    # Jobs stay queued until the test runs them (TEST_SETTINGS); every roster is a job.
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_LEASE_SECONDS=600,
                    JOB_MAX_PENDING_PER_USER=2, JOB_ROSTER_BYTES=1)


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _job_id(answer) -> int | None:
    location = answer.headers.get("Location", "")
    return int(location.rsplit("#job-", 1)[1]) if "#job-" in location else None


def test_a_user_with_too_many_unfinished_jobs_is_refused_the_next(limited_app):
    client, other_client = limited_app.test_client(), limited_app.test_client()
    export = f"/evaluate/{demo.SLUG}/jobs/export/csv"
    with limited_app.app_context():
        from survey_app.extensions import db

        session = db.session
        owner, other = make_user(session), make_user(session)
        login(client, owner)
        login(other_client, other)
        first = _job_id(client.post(export))
        second = _job_id(client.post(f"/evaluate/{demo.SLUG}/jobs/report"))
        assert first and second
        jobs_before, events_before = _count(session, BackgroundJob), _count(session, AuditEvent)

        refused = client.post(export)
        assert refused.status_code == 302 and _job_id(refused) is None
        assert (_count(session, BackgroundJob), _count(session, AuditEvent)) == (
            jobs_before, events_before)
        page = client.get(refused.headers["Location"]).get_data(as_text=True)
        assert "2 个文件正在准备" in page

        # Another account has slots of its own.
        assert _job_id(other_client.post(export))
        # A finished job frees one.
        assert job_queue.run_now(first) == "done"
        assert _job_id(client.post(export))
        assert _job_id(client.post(export)) is None


def test_letters_and_roster_jobs_count_against_the_same_limit(limited_app, tmp_path):
    client = limited_app.test_client()
    with limited_app.app_context():
        from survey_app.extensions import db

        session = db.session
        login(client, make_user(session, Role.ADMIN))
        assert _job_id(client.post(f"/admin/campaigns/{demo.SLUG}/jobs/letters"))
        roster = rosters.csv_text(rosters.rows(3)).encode()
        uploaded = client.post(f"/admin/campaigns/{demo.SLUG}/roster",
                               data={"roster": (io.BytesIO(roster), "名册.csv")},
                               content_type="multipart/form-data")
        assert _job_id(uploaded)
        jobs_before = _count(session, BackgroundJob)
        sealed_before = sorted(p.name for p in tmp_path.glob("*.upload"))

        assert _job_id(client.post(f"/admin/campaigns/{demo.SLUG}/jobs/letters")) is None
        refused = client.post(f"/admin/campaigns/{demo.SLUG}/roster",
                              data={"roster": (io.BytesIO(roster), "名册.csv")},
                              content_type="multipart/form-data")
        assert refused.status_code == 302 and _job_id(refused) is None
        assert _count(session, BackgroundJob) == jobs_before
        assert sorted(p.name for p in tmp_path.glob("*.upload")) == sealed_before


def test_create_job_refuses_past_the_limit(limited_app):
    with limited_app.app_context():
        from survey_app.extensions import db

        session = db.session
        user = make_user(session)
        for _ in range(3):
            jobs.create_job("export", {"format": "csv"}, session=session, actor=user,
                            campaign=None, action="export.csv", max_pending=3)
        with pytest.raises(jobs.JobLimitReached):
            jobs.create_job("export", {"format": "csv"}, session=session, actor=user,
                            campaign=None, action="export.csv", max_pending=3)
        with pytest.raises(jobs.JobLimitReached):  # the default applies to every caller
            for _ in range(jobs.MAX_PENDING):
                jobs.create_job("report", {}, session=session, actor=user, campaign=None,
                                action="export.report")


def test_being_refused_restarts_the_users_jobs_cut_off_by_a_server_stop(make_app, tmp_path,
                                                                      monkeypatch):
    # Inline mode (the SQLite pilot): jobs run in threads of the web process, lost with it.
    app = make_app(JOB_FILES_DIR=str(tmp_path), JOB_LEASE_SECONDS=60, JOB_RUN_INLINE=True,
                   JOB_MAX_PENDING_PER_USER=2)
    started = []
    monkeypatch.setattr(job_queue, "_start_inline", lambda _app, job_id: started.append(job_id))
    client = app.test_client()
    with app.app_context():
        from datetime import timedelta

        from survey_app.extensions import db
        from survey_app.models import utcnow

        session = db.session
        user = make_user(session)
        never_given = jobs.create_job("export", {"format": "csv"}, session=session,
                                      actor=user, campaign=None, action="export.csv")
        given_long_ago = jobs.create_job("export", {"format": "csv"}, session=session,
                                         actor=user, campaign=None, action="export.csv")
        given_long_ago.enqueued_at = utcnow() - timedelta(minutes=5)  # never claimed
        session.add(given_long_ago)
        session.flush()
        login(client, user)
        refused = client.post(f"/evaluate/{demo.SLUG}/jobs/export/csv")
        assert _job_id(refused) is None
        assert sorted(started) == [never_given.id, given_long_ago.id]
