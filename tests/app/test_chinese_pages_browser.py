"""Real Chromium reads the demo in Chinese: every staff page at 1280x800 as each staff role,
and the resident pages at 360x640 (issue 19). The visible text (``innerText``: what is on
screen, hidden elements left out) holds no English word outside the allow-list and no raw
code (tests/staff_crawl.py). Screenshots go to ``$SURVEY_SHOTS`` when it is set."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from survey_app.extensions import db
from survey_app.services import demo
from tests.live import launch_chromium, migrated_sqlite_app, serve_in_thread
from tests.staff_crawl import (
    PASSWORDS,
    STAFF_ROLES,
    english_words,
    raw_enum_values,
    staff_pages,
    without_data,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_site(tmp_path):
    app = migrated_sqlite_app(tmp_path / "demo.db")
    with app.app_context():
        summary = demo.load_demo(session=db.session, example_links=1)
        db.session.commit()
        pages = staff_pages(db.session)
    yield app, pages, urlsplit(summary.example_links[0]).path
    db.dispose(app)


def _problems(app, text: str) -> dict[str, list[str]]:
    with app.app_context():
        text = without_data(text, db.session)
    found = {"english": sorted(set(english_words(text))),
             "raw codes": sorted(set(raw_enum_values(text)))}
    return {k: v for k, v in found.items() if v}


def _shoot(page, name: str) -> None:
    shots = os.environ.get("SURVEY_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}.png"))


def test_staff_and_resident_pages_read_in_chinese_in_chromium(demo_site):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, pages, token_path = demo_site
    problems = {}
    with serve_in_thread(app) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for role, username in STAFF_ROLES.items():
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          locale="zh-CN")
            page = context.new_page()
            page.goto(f"{base}/auth/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORDS[username])
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert "/auth/login" not in page.url, f"{username} could not log in"
            for staff_page in (p for p in pages if p.role == role):
                reply = page.goto(base + staff_page.url)
                assert reply.status == 200, (role, staff_page.url, reply.status)
                _shoot(page, f"{role}{staff_page.url.replace('/', '_')}")
                found = _problems(app, page.inner_text("body"))
                if found:
                    problems[f"{role} {staff_page.url}"] = found
            context.close()
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        for path in (token_path, f"/c/{demo.SLUG}", f"/c/{demo.SLUG}/relocated",
                     f"/c/{demo.SLUG}/rental_subsidy?unverified=1", f"/c/{demo.SLUG}/answer"):
            reply = page.goto(base + path)
            assert reply.status == 200, (path, reply.status)
            _shoot(page, f"resident{path.replace('/', '_').replace('?', '_')}")
            text = page.inner_text("body")
            assert "满意" in text or "住户" in text, path
            found = _problems(app, text)
            if found:
                problems[f"resident {path}"] = found
        browser.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
