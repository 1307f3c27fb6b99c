"""An evaluator back-checks with the keyboard alone in Debian's headless Chromium: opens a
drawn household, asks for its phone (audited), types the call outcome and the answers given
again, and lands on the next household to call."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import AuditEvent, BackcheckCase
from survey_app.services import backchecks
from tests.evaluate.backcheck_field import build_backcheck_field
from tests.factories import PASSWORD
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import CHROMIUM, CHROMIUM_ARGS, serve_in_thread, tab_to, wait_for_focus

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live(tmp_path):
    url = f"sqlite:///{tmp_path / 'backchecks.db'}"
    upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        bc = build_backcheck_field(db.session, seal_contacts=True)
        draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=db.session)
        rows = backchecks.case_rows(draw, session=db.session)
        first, second = rows[0], rows[1]
        info = {"slug": bc.campaign.slug, "evaluator": bc.evaluator.username,
                "first_id": first.case.household_id, "first_code": first.household_code,
                "second_id": second.case.household_id,
                "typed": bc.typed[first.household_code]}
        db.session.commit()
    try:
        with serve_in_thread(app) as base:
            yield app, base, info
    finally:
        db.dispose(app)


def test_an_evaluator_back_checks_a_household_with_the_keyboard(live):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    phone = f"1390000{info['first_id']:04d}"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN")
        try:
            page.goto(f"{base}/auth/login?next=/evaluate/{info['slug']}/backchecks")
            wait_for_focus(page, "username")
            page.keyboard.type(info["evaluator"])
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            tab_to(page, lambda focus: focus.startswith(info["first_code"] + "-"))
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert phone not in page.content()
            wait_for_focus(page, "reveal")  # 显示电话和地址以便回访
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert phone in page.inner_text(".contact")
            # The cursor waits in the outcome; the items appear once 1 (reached) is typed.
            wait_for_focus(page, "outcome")
            assert page.is_hidden("[data-qid=visited]")
            codes = ["1", "2", info["typed"]["overall_satisfaction"],
                     info["typed"]["household_size"]]
            for number, code in enumerate(codes, start=1):
                page.keyboard.type(code)
                if number < len(codes):
                    page.keyboard.press("Enter")  # to the next question
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith(f"/backchecks/{info['second_id']}")
            assert "已记录本次回访" in page.inner_text("main")
        finally:
            browser.close()
    with app.app_context():
        case = db.session.exec(select(BackcheckCase).where(
            BackcheckCase.household_id == info["first_id"])).one()
        assert (case.outcome, case.discrepant) == ("reached", True)  # "nobody came"
        assert case.answers["visited"] == "2"
        reveal = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.reveal")).one()
        assert reveal.reason == "backcheck"
