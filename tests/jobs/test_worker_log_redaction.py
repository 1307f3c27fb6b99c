"""The worker's output holds no ID number or phone number: a real ``survey-app jobs worker``
process runs a job that logs one (in its message and in its arguments) and fails with an
exception quoting both; everything the process printed (RQ's lines, the job runner's
failure with its traceback, the module's warning) is redacted by the one record factory
(``survey_app.log_redaction.install``), with no redaction of its own in the job runner."""

from __future__ import annotations

import subprocess
import sys

import pytest

from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import jobs
from tests.factories import make_campaign, make_user
from tests.fixtures.settings import TEST_SETTINGS
from tests.jobs.worker_process import app_config, job_settings, require_redis, workers

pytestmark = pytest.mark.slow

ID_NUMBER, PHONE = "430903199001011234", "13812345678"
# The worker, its export producer replaced by one that leaks (as a real producer's error
# might: a parse error quoting a cell, a database error's detail).
LEAKY_WORKER = f"""
import logging, sys
from survey_app.services import job_kinds

def leaky(spec, context):
    log = logging.getLogger("survey_app.services.job_kinds")
    log.warning("household {ID_NUMBER} under way")
    log.warning("calling %s", "{PHONE}")
    raise ValueError("no household with ID {ID_NUMBER} or phone {PHONE}")

job_kinds.PRODUCERS["export"] = leaky
from survey_app.cli import main
sys.argv = ["survey-app", "jobs", "worker", "--burst"]
main()
"""


def test_the_workers_output_is_redacted(fresh_database_url, tmp_path):
    require_redis()
    settings = job_settings(fresh_database_url, tmp_path / "jobs")
    app = create_app({**TEST_SETTINGS, **app_config(settings)})
    with app.app_context():
        session = db.session
        job = jobs.create_job("export", {"format": "csv"}, session=session,
                              actor=make_user(session), campaign=make_campaign(session),
                              action="export.csv")
        session.commit()
        job_id = job.id
    with workers(settings, tmp_path) as pool:  # the queue is deleted afterwards
        done = subprocess.run([sys.executable, "-c", LEAKY_WORKER], env=pool.env,
                              capture_output=True, text=True, timeout=120, check=False)
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    with app.app_context():
        assert db.session.get(BackgroundJob, job_id).status == JobStatus.FAILED
    db.dispose(app)
    assert ID_NUMBER not in printed and ID_NUMBER[:17] not in printed
    assert PHONE not in printed
    # Not vacuous: the job ran in this worker and each leak was printed, masked.
    assert f"job {job_id} (export) failed: ValueError" in printed
    assert "household <id-number> under way" in printed and "calling <phone>" in printed
    assert "ValueError: no household with ID <id-number> or phone <phone>" in printed
    assert "Traceback (most recent call last)" in printed
