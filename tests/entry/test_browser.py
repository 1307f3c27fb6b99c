"""One paper form typed in Debian's real headless Chromium with the keyboard alone."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import Response
from survey_app.services.paper_entry import check_digit
from survey_app.services.responses import answer_values
from tests.entry.conftest import build_field
from tests.factories import PASSWORD
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.browser

# Typed in questionnaire order; has_complained = 2 hides complaint_handling (skip logic).
TYPED = [
    ("is_household_head", "1"), ("age_band", "3"), ("household_size", "4"),
    ("knows_policy", "2"), ("policy_publicity", "4"), ("benefit_standard", "3"),
    ("process_fairness", "5"), ("payment_timeliness", "4"), ("housing_improvement", "9"),
    ("staff_attitude", "5"), ("information_disclosure", "4"), ("procedure_convenience", "4"),
    ("has_complained", "2"), ("overall_satisfaction", "4"), ("comments", "希望加快进度"),
]


@pytest.fixture
def live(tmp_path):
    url = f"sqlite:///{tmp_path / 'entry.db'}"
    upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        world = build_field(db.session, double_entry=False, count_a=1, count_b=1)
        info = {"slug": world.campaign.slug, "worker": world.worker_a.username,
                "code": world.households_a[0].household_code,
                "household_id": world.households_a[0].id}
        db.session.commit()
    try:
        with serve_in_thread(app) as base:
            yield app, base, info
    finally:
        db.dispose(app)


def _wait_for_focus(page, element_id: str) -> None:
    page.wait_for_function(f"document.activeElement && document.activeElement.id === "
                           f"'{element_id}'")


def test_worker_enters_a_paper_form_with_the_keyboard_alone(live):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN")
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        try:
            page.goto(f"{base}/auth/login?next=/entry/{info['slug']}/")
            _wait_for_focus(page, "username")  # the username field has autofocus
            page.keyboard.type(info["worker"])
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url == f"{base}/entry/{info['slug']}/"

            # A mistyped check digit is refused and the code stays in the focused field.
            _wait_for_focus(page, "code")
            wrong = str((int(check_digit(info["code"])) + 1) % 10)
            page.keyboard.type(f"{info['code']}-{wrong}")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.is_visible(".has-error .error")
            assert page.input_value("#code") == f"{info['code']}-{wrong}"
            _wait_for_focus(page, "code")
            page.keyboard.press("Control+A")
            page.keyboard.type(f"{info['code']}-{check_digit(info['code'])}")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith(f"/households/{info['household_id']}/enter")
            _wait_for_focus(page, "q_is_household_head")

            # The first answer has focus; Enter or Tab moves on; the hidden branch is skipped.
            for index, (qid, code) in enumerate(TYPED):
                assert page.evaluate("document.activeElement.name") == f"q_{qid}"
                page.keyboard.type(code)
                if qid == "has_complained":
                    assert not page.is_visible('[data-qid="complaint_handling"]')
                if index == len(TYPED) - 1:
                    break
                page.keyboard.press("Tab" if index % 3 == 2 else "Enter")
            with page.expect_navigation():
                page.keyboard.press("Enter")  # Enter on the last answer saves the form
            assert page.url == f"{base}/entry/{info['slug']}/"
            assert page.is_visible(".flash.success")
        finally:
            browser.close()
    assert all(url.startswith(base) for url in requested)
    with app.app_context():
        (response,) = db.session.exec(select(Response)).all()
        values = answer_values(response, session=db.session)
    assert response.mode == "paper"
    assert {k: str(v) for k, v in values.items()} == dict(TYPED)
