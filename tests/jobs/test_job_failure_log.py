"""A failed job's log line names the job and its error, never the personal data the error
quoted: a database error's parameters are hidden and the rest is redacted."""

from __future__ import annotations

import logging

from sqlalchemy import text

from survey_app import job_queue
from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import job_kinds, jobs
from tests.factories import make_campaign, make_user
from tests.services import rosters


def test_a_failed_jobs_log_holds_no_id_number(make_app, tmp_path, monkeypatch, caplog):
    app = make_app(JOB_FILES_DIR=str(tmp_path))
    id_number, phone = rosters.id_number(7), rosters.phone(7)

    def clash(spec, context):
        # A unique key violated with an ID number in it: on PostgreSQL its detail quotes
        # the key's value; on both, the error text would list the statement's parameters.
        with context.write() as session:
            for _ in range(2):
                session.execute(text("INSERT INTO community (code, name, street) "
                                     "VALUES (:code, :name, '')"),
                                {"code": id_number, "name": f"王小明 {phone}"})
        raise AssertionError("unreachable")

    monkeypatch.setitem(job_kinds.PRODUCERS, "export", clash)
    with app.app_context():
        from survey_app.extensions import db

        session = db.session
        job = jobs.create_job("export", {"format": "csv"}, session=session,
                              actor=make_user(session), campaign=make_campaign(session),
                              action="export.csv")
        with caplog.at_level(logging.INFO):
            assert job_queue.run_now(job.id) == "failed"
        job = session.get(BackgroundJob, job.id, populate_existing=True)
        assert (job.status, job.error) == (JobStatus.FAILED, "IntegrityError")
    logged = caplog.text
    assert f"job {job.id} (export) failed" in logged and "IntegrityError" in logged
    assert id_number not in logged and id_number[:17] not in logged
    assert phone not in logged and "王小明" not in logged  # a name: only hidden parameters
