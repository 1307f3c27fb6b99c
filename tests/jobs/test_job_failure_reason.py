"""A failed job tells its user why, in a fixed vocabulary they can act on (Chinese and
English), never in the error's own text (which may quote personal data)."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from survey_app import job_queue
from survey_app.models import BackgroundJob, JobStatus, Role
from survey_app.services import jobs
from tests.factories import login, make_campaign, make_user
from tests.services import rosters


@pytest.mark.parametrize(("error", "attempts", "zh", "en"), [
    ("SnapshotChanged", 1, "数据在生成期间有变化，请重新生成",
     "The data changed while the file was being prepared; please ask again."),
    ("attempts", 3, "生成中断（已尝试 3 次），请重新生成",
     "Interrupted (tried 3 times); please ask again."),
    ("IntegrityError", 1, "生成失败，请重新生成；如再次失败，请把任务编号 41 告知管理员",
     "Failed; please ask again. If it fails again, give the administrator job number 41."),
])
def test_each_failure_kind_has_its_reason(app, error, attempts, zh, en):
    job = BackgroundJob(id=41, kind="export", params={}, requested_by=1,
                        status=JobStatus.FAILED, error=error, attempts=attempts)
    with app.test_request_context():
        with force_locale("zh"):
            assert jobs.failure_reason(job) == zh
        with force_locale("en"):
            assert jobs.failure_reason(job) == en
    job.status = JobStatus.DONE
    assert jobs.failure_reason(job) is None


@pytest.fixture
def roster_app(make_app, tmp_path):
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_ROSTER_BYTES=1, JOB_LEASE_SECONDS=600)


def _roster_job(client, slug: str, data: bytes) -> int:
    answer = client.post(f"/admin/campaigns/{slug}/roster",
                         data={"roster": (io.BytesIO(data), "名册.csv")},
                         content_type="multipart/form-data")
    return int(answer.headers["Location"].rsplit("#job-", 1)[1])


def test_a_roster_job_whose_file_is_unreadable_says_so(roster_app, tmp_path):
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="gone")
        login(client, make_user(db.session, Role.ADMIN))
        job_id = _roster_job(client, "gone", rosters.csv_text(rosters.rows(3)).encode())
        (tmp_path / f"job-{job_id}.upload").unlink()  # lost: the job cannot read it
        assert job_queue.run_now(job_id) == "failed"
        status = client.get(f"/evaluate/jobs/{job_id}").get_json()
        page = client.get("/admin/campaigns/gone").get_data(as_text=True)
    assert status["reason"] == "名册文件无法读取，请对照名册模板检查后重新上传"
    assert f'<span class="job-state" role="status">{status["reason"]}</span>' in page
    assert "No such file" not in page and str(tmp_path) not in page


def test_a_job_whose_workers_were_lost_says_how_often_it_was_tried(roster_app):
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="lost")
        login(client, make_user(db.session, Role.ADMIN))
        job_id = _roster_job(client, "lost", rosters.csv_text(rosters.rows(3)).encode())
        db.session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
            attempts=3))
        assert job_queue.run_now(job_id) == "skipped"
        page = client.get("/admin/campaigns/lost?lang=en").get_data(as_text=True)
    assert "Interrupted (tried 3 times); please ask again." in page


def test_a_refused_roster_points_to_the_problem_list(roster_app):
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="refused")
        login(client, make_user(db.session, Role.ADMIN))
        table = rosters.rows(3)
        table[1][6] = "123"  # not an ID number: the file is refused
        job_id = _roster_job(client, "refused", rosters.csv_text(table).encode())
        assert job_queue.run_now(job_id) == "done"
        page = client.get("/admin/campaigns/refused").get_data(as_text=True)
    state = page.split(f'id="job-{job_id}"', 1)[1].split("</li>", 1)[0]
    assert '<a href="#roster-problems">未导入：请查看问题列表</a>' in state
    assert 'id="roster-problems"' in page


def test_the_roster_result_line_has_one_gap_and_the_page_unique_ids(roster_app):
    """After a full-width colon no space (it has its own), and the roster section no longer
    shares its id with the file input (``roster``, the form field's)."""
    client = roster_app.test_client()
    with roster_app.app_context():
        from survey_app.extensions import db

        make_campaign(db.session, slug="lines")
        login(client, make_user(db.session, Role.ADMIN))
        job_id = _roster_job(client, "lines", rosters.csv_text(rosters.rows(3)).encode())
        assert job_queue.run_now(job_id) == "done"
        page = client.get("/admin/campaigns/lines").get_data(as_text=True)
        english = client.get("/admin/campaigns/lines?lang=en").get_data(as_text=True)
    assert "最近一次名册文件的后台导入：已导入 3 户。" in page
    assert "： " not in page
    assert "Background import of the latest roster file: imported 3 households." in english
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'id="roster-import"' in page and page.count('id="roster"') == 1
