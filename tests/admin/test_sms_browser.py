"""The SMS page and the field progress page with two waves, in Debian's headless Chromium at
a phone's and a laptop's size: the administrator confirms the reminder wave; screenshots
are kept in ``SURVEY_SCREENSHOT_DIR`` when it is set."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import Campaign, MessageStatus, OutboxMessage, Role, SmsWave
from survey_app.services import sms_waves
from tests.admin.test_sms_pages import _answer
from tests.factories import PASSWORD, make_user
from tests.live import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_app, serve_in_thread
from tests.services.sms_field import build_field

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORTS = {"phone": {"width": 360, "height": 640}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture
def live(tmp_path):
    app = migrated_sqlite_app(tmp_path / "sms.db")
    t0 = datetime(2021, 12, 1, 2, 0, tzinfo=UTC)
    with app.app_context():
        field = build_field(db.session, 60, answered_at=t0 - timedelta(days=1))
        campaign = db.session.get(Campaign, field.campaign_id)
        sms_waves.create_wave(campaign, session=db.session, now=t0)
        messages = db.session.exec(select(OutboxMessage)).all()
        for place, message in enumerate(messages):
            message.status = (MessageStatus.DELIVERED if place % 6 else MessageStatus.FAILED)
            message.sent_at = t0
            db.session.add(message)
        for place, household in enumerate(field.eligible):
            if place % 3 == 0:
                _answer(db.session, campaign.id, household, t0 + timedelta(hours=place % 30))
        admin = make_user(db.session, Role.ADMIN)
        db.session.commit()
        info = {"slug": campaign.slug, "admin": admin.username}
    try:
        with serve_in_thread(app) as base:
            yield app, base, info
    finally:
        db.dispose(app)


def _shoot(page, name: str) -> None:
    folder = os.environ.get("SURVEY_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_the_admin_sends_a_reminder_and_sees_its_effect_at_phone_and_laptop_size(live):
    from playwright import sync_api

    app, base, info = live
    sms_page = f"/admin/campaigns/{info['slug']}/sms"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, viewport in VIEWPORTS.items():
                page = browser.new_page(locale="zh-CN", viewport=viewport)
                page.goto(f"{base}/auth/login?next={sms_page}")
                page.fill("#username", info["admin"])
                page.fill("#password", PASSWORD)
                with page.expect_navigation():
                    page.press("#password", "Enter")
                assert page.url.endswith(sms_page)
                # The phone sends reminder 1; the laptop then previews reminder 2.
                expected = "第1次提醒" if size == "phone" else "第2次提醒"
                assert expected in page.inner_text("h2#next")
                _shoot(page, f"sms-{size}")
                if size == "phone":
                    page.check("#confirm")
                    with page.expect_navigation():
                        page.click("#submit")
                    assert "已写入发件箱" in page.content()
                    _shoot(page, f"sms-sent-{size}")
                page.goto(f"{base}/entry/{info['slug']}/progress")
                assert "第1次提醒" in page.inner_text("table.wave-rates")
                page.locator("#waves").scroll_into_view_if_needed()
                _shoot(page, f"progress-{size}")
                page.close()
        finally:
            browser.close()
    with app.app_context():
        assert len(db.session.exec(select(SmsWave)).all()) == 2
