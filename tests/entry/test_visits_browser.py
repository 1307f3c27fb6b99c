"""A worker opens their visit list, asks for the addresses, and records two attempts and an
appointment in Debian's real headless Chromium, with the keyboard alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import AuditEvent, Household, Visit
from survey_app.services import contact_vault, visits
from survey_app.services.contact_vault import Contact
from survey_app.services.score_filters import BEIJING
from tests.entry.conftest import build_field
from tests.factories import PASSWORD
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import CHROMIUM, CHROMIUM_ARGS, serve_in_thread, tab_to, wait_for_focus

pytestmark = pytest.mark.browser
ADDRESS = "桃花仑街道龙岭路18号3栋402室"


@pytest.fixture
def live(tmp_path):
    url = f"sqlite:///{tmp_path / 'visits.db'}"
    upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        world = build_field(db.session, count_a=3, count_b=1)
        target = world.households_a[1]
        contact_vault.seal_household(target, Contact("周七", ADDRESS, "13700000018"),
                                     secret=TEST_SETTINGS["CONTACT_KEY"])
        db.session.commit()
        info = {"slug": world.campaign.slug, "worker": world.worker_a.username,
                "code": target.household_code, "household_id": target.id}
    try:
        with serve_in_thread(app) as base:
            yield app, base, info
    finally:
        db.dispose(app)


def _record(page, *, channel: str, outcome: str, note: str, typed_time: str | None = None,
            appointment: str = "") -> None:
    """Type one attempt into the visit form, whose channel field has the focus."""
    wait_for_focus(page, "channel")
    page.keyboard.type(channel)  # option labels start with their number
    page.keyboard.press("Tab")
    page.keyboard.type(outcome)
    page.keyboard.press("Tab")
    if typed_time is not None:
        page.keyboard.press("Control+A")
        page.keyboard.type(typed_time)
    page.keyboard.press("Tab")
    page.keyboard.type(note)
    page.keyboard.press("Tab")
    page.keyboard.type(appointment)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_worker_records_two_attempts_and_an_appointment_from_the_visit_list(live):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    now = datetime.now(UTC).astimezone(BEIJING)
    earlier = (now - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    appointment = (now + timedelta(days=1)).replace(hour=19, minute=30)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN")
        try:
            page.goto(f"{base}/auth/login?next=/entry/{info['slug']}/visits")
            wait_for_focus(page, "username")
            page.keyboard.type(info["worker"])
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith(f"/entry/{info['slug']}/visits")
            assert ADDRESS not in page.content()

            # Ask for the addresses: the list comes back with the vault's clear text.
            tab_to(page, lambda focus: focus == "submit")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert ADDRESS in page.inner_text(".visit-table")

            # Open the household from the list; the cursor waits in the visit form.
            tab_to(page, lambda focus: focus.startswith(info["code"] + "-"))
            with page.expect_navigation():
                page.keyboard.press("Enter")
            _record(page, channel="1", outcome="4", note="敲门无人应答", typed_time=earlier)
            assert "敲门无人应答" in page.inner_text("#visits table")
            _record(page, channel="2", outcome="2", note="约明晚再来",
                    appointment=appointment.strftime("%Y-%m-%d %H:%M"))
            log = page.inner_text("#visits table")
            assert "约明晚再来" in log and appointment.strftime("%Y-%m-%d %H:%M") in log
        finally:
            browser.close()
    with app.app_context():
        logged = db.session.exec(select(Visit).where(
            Visit.household_id == info["household_id"]).order_by(Visit.attempted_at)).all()
        assert [(v.channel, v.outcome, v.note) for v in logged] == [
            ("visit", "not_at_home", "敲门无人应答"), ("phone", "contacted", "约明晚再来")]
        assert visits.beijing(logged[0].attempted_at).strftime("%Y-%m-%d %H:%M") == earlier
        assert visits.beijing(logged[1].next_appointment) == appointment.replace(
            second=0, microsecond=0)
        assert db.session.get(Household, info["household_id"]).disposition == "contacted"
        reveals = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.reveal")).all()
        assert [e.object_id for e in reveals] == [str(info["household_id"])]
