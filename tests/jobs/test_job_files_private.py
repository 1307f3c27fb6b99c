"""A job's file (an export; letters carry live survey links) is readable by the server's
account only, from its first byte: written 0600 in a folder made 0700, zipped formats
included (their times are fixed in a second file)."""

from __future__ import annotations

import stat

import pytest

from survey_app import job_queue
from survey_app.services import demo
from tests.factories import login, make_user

pytestmark = pytest.mark.demo_data


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_job_files_are_private_to_the_server(make_app, tmp_path, fmt):
    folder = tmp_path / "jobs"
    app = make_app(JOB_FILES_DIR=str(folder), JOB_LEASE_SECONDS=600)
    client = app.test_client()
    with app.app_context():
        from survey_app.extensions import db

        login(client, make_user(db.session))
        answer = client.post(f"/evaluate/{demo.SLUG}/jobs/export/{fmt}")
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        assert job_queue.run_now(job_id) == "done"
    files = list(folder.iterdir())
    assert [f.name for f in files] == [f"job-{job_id}.{fmt}"]
    assert _mode(files[0]) == 0o600
    assert _mode(folder) == 0o700
