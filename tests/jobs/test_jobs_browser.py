"""In Chromium: an export started on the dashboard shows a progress bar that moves while the
job runs (inline, in the served app) and then a download link that delivers the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import BackgroundJob, Role
from survey_app.services import demo
from tests.factories import PASSWORD, make_user
from tests.live import launch_chromium, migrated_sqlite_app, serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def jobs_app(tmp_path):
    # Jobs run in a thread of the served app, slowed down (a pause after every 50 of the
    # demo's 530 rows) so the bar is seen moving.
    app = migrated_sqlite_app(tmp_path / "jobs.db", JOB_RUN_INLINE=True,
                              JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_PROGRESS_ROWS=50,
                              JOB_TEST_STEP_DELAY_MS=300)
    with app.app_context():
        demo.load_demo(session=db.session, example_links=0)
        user = make_user(db.session, Role.EVALUATOR, username="job-watcher")
        db.session.commit()
    yield app, user.username
    db.dispose(app)


def _bar(page, job_id: int) -> tuple[float, float, bool]:
    return page.evaluate(
        """(id) => { const li = document.getElementById('job-' + id);
                     const bar = li.querySelector('progress');
                     return [bar.value, bar.max, !li.querySelector('.job-download').hidden]; }""",
        job_id)


def test_progress_bar_moves_and_the_download_arrives(jobs_app, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, username = jobs_app
    with serve_in_thread(app) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                accept_downloads=True)
        page.goto(f"{base}/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/evaluate/")
        page.goto(f"{base}/evaluate/{demo.SLUG}")
        page.locator("#jobs form").first.locator("button").click()  # CSV
        page.wait_for_url("**#job-*")
        job_id = int(page.url.rsplit("#job-", 1)[1])

        seen: list[tuple[float, float]] = []
        for _ in range(400):  # up to 40 s
            value, maximum, ready = _bar(page, job_id)
            if not seen or seen[-1] != (value, maximum):
                seen.append((value, maximum))
            if ready:
                break
            page.wait_for_timeout(100)
        assert ready, seen
        total = seen[-1][1]
        assert total == 530 and seen[-1][0] == total
        partial = {v for v, m in seen if m == total and 0 < v < total}
        assert len(partial) >= 2, seen  # the bar moved through at least two steps
        assert page.locator(f"#job-{job_id} .job-state").inner_text() == "已生成"
        page.screenshot(path=str(tmp_path / "jobs-1280.png"), full_page=False)

        with page.expect_download() as info:
            page.locator(f"#job-{job_id} .job-download").click()
        download = info.value
        assert download.suggested_filename == "heshan-2021-responses.csv"
        data = Path(download.path()).read_bytes()
        assert data.startswith("\ufeff".encode())
        with app.app_context():
            job = db.session.exec(select(BackgroundJob).where(
                BackgroundJob.id == job_id)).one()
            assert hashlib.sha256(data).hexdigest() == job.result_sha256
        browser.close()
