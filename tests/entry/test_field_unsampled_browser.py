"""F11 on the phone: an interview of a household that left the sample while the interview
waited offline (the sample drawn again) is refused by the server, stays on the phone with
its answers numbered as on the paper form, and links to that household's paper entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from survey_app.extensions import db
from survey_app.models import Household
from tests.entry import test_field_browser as field_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
live = field_browser.live
SHOTS = Path(os.environ.get("SURVEY_SHOTS", "/tmp/shots-review"))


def test_an_unsampled_households_interview_stays_on_the_phone_for_paper_entry(live,
                                                                               tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    with playwright_api.sync_playwright() as playwright:
        context, page = field_browser._open(playwright, tmp_path / "profile")
        field_browser._open_with_contacts(page, base, info)
        context.set_offline(True)
        field_browser._interview(page, 0)
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('1')")
        kept = page.evaluate("(slug) => FieldStore.all(slug)", info["slug"])[0]
        with app.app_context():  # meanwhile the household left the sample
            household = db.session.get(Household, kept["household_id"])
            household.sampled = False
            db.session.commit()
        context.set_offline(False)
        page.wait_for_selector("#outcomes li.refused")
        assert field_browser._stored(app) == []
        refused = page.locator("#outcomes li.refused")
        assert "不在抽样名单中" in refused.text_content()
        refused.locator("summary").click()
        assert refused.locator(".kept li").count() == len(
            [a for a in kept["answers"].values() if a not in ("", [])])
        assert refused.locator(".kept li").first.get_attribute("value") == "1"
        link = refused.locator("a.enter")
        assert link.get_attribute("href") == (
            f"/entry/{info['slug']}/households/{kept['household_id']}/enter")
        # Nothing lost: the record is still in IndexedDB, refused, with its answers.
        again = page.evaluate("(slug) => FieldStore.all(slug)", info["slug"])
        assert [(r["state"], r["answers"]) for r in again] == [("refused", kept["answers"])]
        SHOTS.mkdir(parents=True, exist_ok=True)
        refused.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "field-unsampled-360.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(SHOTS / "field-unsampled-1280.png"), full_page=True)
        with page.expect_navigation():
            link.click()
        assert "/enter" in page.url and page.locator("form.paper-entry").count() == 1
        context.close()
