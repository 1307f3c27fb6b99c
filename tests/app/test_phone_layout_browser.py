"""The evaluator's roll-up and dashboard on a 360 px phone in real Chromium: the page itself
never scrolls sideways, each wide table scrolls inside its box with its cells on one line
(not one character a line), and each chart keeps a readable size in its own scroll box."""

from __future__ import annotations

import pytest

from survey_app.extensions import db
from survey_app.services import demo
from tests.live import launch_chromium, migrated_sqlite_app, serve_in_thread
from tests.staff_crawl import PASSWORDS

pytestmark = pytest.mark.browser

#: Per table, the tallest header cell (px): one line of 16 px text is about 30 px with padding;
#: a heading squeezed to a character a line ran to 100 px and more.
_TALLEST_HEADER = """() => Array.from(document.querySelectorAll('main table')).map(
    t => Math.max(...Array.from(t.querySelectorAll('th'))
                  .map(c => c.getBoundingClientRect().height)))"""
#: Rendered width of each chart (px).
_CHART_WIDTHS = """() => Array.from(document.querySelectorAll('svg.chart')).map(
    s => s.getBoundingClientRect().width)"""


@pytest.fixture
def demo_site(tmp_path):
    app = migrated_sqlite_app(tmp_path / "phone.db")
    with app.app_context():
        demo.load_demo(session=db.session, example_links=0)
        db.session.commit()
    yield app
    db.dispose(app)


@pytest.mark.parametrize("path", ["/evaluate/units/430900/2021", f"/evaluate/{demo.SLUG}"])
def test_tables_and_charts_fit_a_phone(demo_site, path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with serve_in_thread(demo_site) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale="zh-CN")
        page.goto(f"{base}/auth/login")
        page.fill("#username", "evaluator")
        page.fill("#password", PASSWORDS["evaluator"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        tallest = page.evaluate(_TALLEST_HEADER)
        assert tallest and max(tallest) < 60, tallest
        widths = page.evaluate(_CHART_WIDTHS)
        # At least 480 px: a 12 px label drawn at two thirds of its size or more.
        assert widths and min(widths) >= 480, widths
        browser.close()


def test_send_now_with_nothing_waiting_says_so(demo_site):
    """The field page's "Send now" with no kept interview used to leave the page unchanged,
    as if the button did nothing."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with serve_in_thread(demo_site) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                      service_workers="block")
        page = context.new_page()
        page.goto(f"{base}/auth/login?next=/entry/{demo.SLUG}/field/")
        page.fill("#username", "worker-thl")
        page.fill("#password", PASSWORDS["worker-thl"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#households button")
        assert page.text_content("#message") == ""  # nothing said before anyone asks
        page.click("#sync")
        page.wait_for_function(
            "() => document.querySelector('#message').textContent === '没有待发送的访问记录。'")
        browser.close()


def test_the_visit_list_keeps_its_columns_readable_on_a_phone(demo_site):
    """The worker's visit list squeezed its "so far" column to one character a line (已/联/
    系/…) at 360 px; the table now scrolls in its box, its headings on one line."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with serve_in_thread(demo_site) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale="zh-CN")
        page.goto(f"{base}/auth/login?next=/entry/{demo.SLUG}/visits")
        page.fill("#username", "worker-thl")
        page.fill("#password", PASSWORDS["worker-thl"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("table.visit-table")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        tallest = page.evaluate(_TALLEST_HEADER)
        assert tallest and max(tallest) < 60, tallest
        widths = page.evaluate("""() => Array.from(document.querySelectorAll(
            'table.visit-table td.so-far')).map(c => c.getBoundingClientRect().width)""")
        assert widths and min(widths) >= 80, widths
        browser.close()


def test_indicator_table_cells_stay_on_one_line_on_a_desktop(demo_site):
    """At 1280 px the indicator table broke 不单独计分 into 不单/独计/分 and 满意度指标 into
    two lines; its numbers and first column now keep to one line."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with serve_in_thread(demo_site) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.goto(f"{base}/auth/login?next=/evaluate/{demo.SLUG}")
        page.fill("#username", "evaluator")
        page.fill("#password", PASSWORDS["evaluator"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        lines = page.evaluate("""() => Array.from(document.querySelectorAll(
            'table.indicator-table td.num, table.indicator-table td:first-child')).map(c => {
              const r = document.createRange(); r.selectNodeContents(c);
              return [c.textContent, new Set(Array.from(r.getClientRects())
                                             .map(x => Math.round(x.top))).size]; })""")
        assert any(text == "不单独计分" for text, _ in lines)
        assert all(n <= 1 for _, n in lines), [x for x in lines if x[1] > 1]
        browser.close()
