"""In Debian's Chromium: a link on another site to an export shows the confirmation page
(the browser says ``Sec-Fetch-Site: cross-site``) and nothing is exported; its button, and
the dashboard's own download link, deliver the file."""

from __future__ import annotations

import pytest
from sqlmodel import func, select
from werkzeug.wrappers import Response

from survey_app.extensions import db
from survey_app.models import AuditEvent, Role
from tests.factories import PASSWORD, make_user
from tests.live import launch_chromium, migrated_sqlite_app, serve_in_thread
from tests.public.conftest import build_survey_campaign

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _exports(app) -> int:
    with app.app_context():
        return db.session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("export.%"))).one()


def test_another_sites_link_asks_first_and_the_dashboards_link_downloads(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app = migrated_sqlite_app(tmp_path / "xsite.db")
    with app.app_context():
        slug = build_survey_campaign(db.session, slug="xsite").campaign.slug
        evaluator = make_user(db.session, Role.EVALUATOR).username
        db.session.commit()
    try:
        with serve_in_thread(app) as base:
            export = f"{base}/evaluate/{slug}/export/csv"

            def other_site(environ, start_response):
                page = f'<a id="bait" href="{export}">free gift</a>'
                return Response(page, mimetype="text/html")(environ, start_response)

            with serve_in_thread(other_site) as other, \
                    playwright_api.sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(locale="zh-CN", accept_downloads=True)
                page.goto(f"{base}/auth/login")
                page.fill("#username", evaluator)
                page.fill("#password", PASSWORD)
                with page.expect_navigation():
                    page.press("#password", "Enter")
                # 127.0.0.1 and localhost are different sites to the browser.
                page.goto(other.replace("127.0.0.1", "localhost"))
                with page.expect_navigation():
                    page.click("#bait")
                assert "另一个网站" in page.content() and _exports(app) == 0
                with page.expect_download() as confirmed:
                    page.get_by_role("link", name="继续", exact=True).click()
                assert confirmed.value.suggested_filename.endswith(".csv")
                assert _exports(app) == 1
                page.goto(f"{base}/evaluate/{slug}")
                with page.expect_download() as own:
                    page.locator(f"a[href^=\"/evaluate/{slug}/export/indicator\"]").click()
                assert own.value.suggested_filename.endswith(".xlsx")
                assert _exports(app) == 2
                browser.close()
    finally:
        db.dispose(app)
