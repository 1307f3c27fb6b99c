"""In Chromium: an admin uploads a roster large enough to be imported by a background job;
the job's progress bar moves, and the page then shows what the job did: the households
imported, or, for an invalid file, each problem by row and column, with nothing imported."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import Household, Role
from tests.factories import PASSWORD, make_campaign, make_user
from tests.jobs.test_jobs_browser import _bar
from tests.live import launch_chromium, migrated_sqlite_app, serve_in_thread
from tests.services import rosters

pytestmark = pytest.mark.browser
HOUSEHOLDS = 300  # ~24 KB of CSV: over the 4 KB threshold below, so imported by a job


@pytest.fixture
def roster_app(tmp_path):
    # Jobs run in a thread of the served app; a pause after each progress report so the
    # bar is seen moving.
    app = migrated_sqlite_app(tmp_path / "roster.db", JOB_RUN_INLINE=True,
                              JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_ROSTER_BYTES=4096,
                              JOB_TEST_STEP_DELAY_MS=1200)
    with app.app_context():
        make_campaign(db.session, slug="roster-big")
        admin = make_user(db.session, Role.ADMIN, username="roster-admin")
        db.session.commit()
    yield app, admin.username
    db.dispose(app)


def _households(app) -> int:
    with app.app_context():
        return db.session.exec(select(func.count()).select_from(Household)).one()


def _upload_and_watch(page, base: str, path) -> tuple[int, list[tuple[float, float]]]:
    """Upload ``path`` on the campaign page; follow the job's bar until the page reloads
    with its outcome. The job id and the bar's values seen."""
    page.goto(f"{base}/admin/campaigns/roster-big")
    page.set_input_files("#roster-import input[type=file]", str(path))
    page.locator("#roster-import form [type=submit]").click()
    page.wait_for_url("**#job-*")
    job_id = int(page.url.rsplit("#job-", 1)[1])
    seen: list[tuple[float, float]] = []
    for _ in range(300):  # up to 30 s
        if page.locator("#roster-job-result, #roster-rejected").count():
            break  # reloaded: the outcome is shown
        try:
            value, maximum, _ready = _bar(page, job_id)
        except Exception:  # noqa: BLE001 - the page is reloading
            page.wait_for_timeout(100)
            continue
        if not seen or seen[-1] != (value, maximum):
            seen.append((value, maximum))
        page.wait_for_timeout(100)
    return job_id, seen


def test_roster_job_progress_and_its_outcome_on_the_page(roster_app, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, username = roster_app
    table = rosters.rows(HOUSEHOLDS)
    broken = [row[:] for row in table]
    broken[4][6] = broken[4][6][:-1] + ("0" if broken[4][6][-1] != "0" else "1")  # check digit
    broken[9][1] = "经济适用房"  # no such household group
    bad_file, good_file = tmp_path / "名册-有误.csv", tmp_path / "名册.csv"
    bad_file.write_text(rosters.csv_text(broken), encoding="utf-8")
    good_file.write_text(rosters.csv_text(table), encoding="utf-8")
    assert good_file.stat().st_size > 4096

    with serve_in_thread(app) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.goto(f"{base}/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/admin/**")

        # An invalid file: every problem by row and column, nothing imported.
        _job, seen = _upload_and_watch(page, base, bad_file)
        rejected = page.locator("#roster-rejected")
        assert rejected.count() == 1, seen
        text = rejected.inner_text()
        assert "名册未通过检查，未导入任何数据。共发现 2 个问题" in text, text
        rows = page.locator("#roster-rejected tbody tr").all_inner_texts()
        assert len(rows) == 2, rows
        cells = [row.split("\t") for row in rows]
        # Data rows 5 and 10 are lines 6 and 11 of the file (the header is line 1).
        assert {(c[0].strip(), c[1].strip()) for c in cells} == {("6", "身份证号"),
                                                               ("11", "类别")}, cells
        assert _households(app) == 0
        _screenshots(page, tmp_path, "rejected")

        # A valid file: the bar moves through the job's steps, then the count is shown.
        job_id, seen = _upload_and_watch(page, base, good_file)
        partial = {v for v, m in seen if m == 3 and 0 < v < 3}
        assert partial, seen  # the bar moved
        result = page.locator("#roster-job-result").inner_text()
        assert f"已导入 {HOUSEHOLDS} 户" in result, result
        assert page.locator(f"#job-{job_id} .job-state").inner_text() == "已生成"
        assert page.locator("#roster-rejected").count() == 0
        assert _households(app) == HOUSEHOLDS
        _screenshots(page, tmp_path, "imported")
        browser.close()


def _screenshots(page, folder, name: str) -> None:
    """The roster section at a phone's and a desktop's width (looked at by hand)."""
    for width, height in ((360, 640), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.locator("section#roster-import").screenshot(
            path=str(folder / f"roster-{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
