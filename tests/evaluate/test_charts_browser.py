"""The dashboard's SVG charts render in real Chromium with Chinese glyphs from a CJK font."""

import io
import re

import pytest

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import Role
from survey_app.services import demo
from tests.factories import PASSWORD, make_user
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import launch_chromium, serve_in_thread

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_FONTS = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi")


@pytest.fixture
def dashboard_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'charts.db'}"
    upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        demo.load_demo(session=db.session, example_links=0)
        user = make_user(db.session, Role.EVALUATOR, username="chart-reader")
        db.session.commit()
    yield app, user.username
    db.dispose(app)


def _fonts_used(page, cdp, selector_index):
    document = cdp.send("DOM.getDocument", {"depth": -1})
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": document["root"]["nodeId"],
                                               "selector": "svg text"})["nodeIds"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": nodes[selector_index]})["fonts"]
    return [f["familyName"] for f in fonts]


def test_svg_charts_show_chinese_labels(dashboard_app):
    playwright_api = pytest.importorskip("playwright.sync_api")
    image_api = pytest.importorskip("PIL.Image")
    app, username = dashboard_app
    with serve_in_thread(app) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(f"{base}/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/evaluate/")
        page.goto(f"{base}/evaluate/{demo.SLUG}")
        charts = page.locator("svg")
        assert charts.count() >= 2
        labels = page.locator("svg text").all_text_contents()
        chinese = [i for i, text in enumerate(labels) if CJK.search(text)]
        assert "政策知晓" in labels and "总体满意度" in labels
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        for index in chinese[:5]:
            fonts = _fonts_used(page, cdp, index)
            # Every glyph came from a CJK font: nothing fell back to a missing-glyph box.
            assert fonts and all(f.startswith(CJK_FONTS) for f in fonts), (labels[index], fonts)
        shot = image_api.open(io.BytesIO(charts.first.screenshot()))
        colours = shot.convert("L").getcolors(maxcolors=1 << 16)
        assert colours is not None and len(colours) > 10, "the chart rendered blank"
        browser.close()


@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_download_buttons_share_one_height(dashboard_app, width, height):
    """汇总表 and 报告章节 (Chinese, drawn in a CJK fallback font with a taller normal line)
    were 42 px high beside 36 px CSV/XLSX/SPSS buttons (ux4); all are one height now, and
    on a phone they wrap into rows inside the screen."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, username = dashboard_app
    with serve_in_thread(app) as base, playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        page.goto(f"{base}/auth/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/evaluate/")
        page.goto(f"{base}/evaluate/{demo.SLUG}")
        buttons = page.locator(".job-buttons button")
        assert buttons.all_text_contents() == ["CSV", "XLSX", "SPSS .sav", "汇总表",
                                               "报告章节（.docx）"]
        boxes = [b.bounding_box() for b in buttons.all()]
        assert {round(b["height"]) for b in boxes} == {40}
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= width for b in boxes)
        rows = sorted({round(b["y"]) for b in boxes})
        assert len(rows) == (2 if width == 360 else 1)
        browser.close()
