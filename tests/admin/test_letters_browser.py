"""The letters printed by Debian's Chromium (issue 21): each letter fits one A4 page in print
media, and its QR code, read from the rendered page, opens the survey at the address the
server actually serves."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from survey_app.extensions import db
from survey_app.models import Role
from tests.factories import PASSWORD, make_user
from tests.live import CHROMIUM, CHROMIUM_ARGS
from tests.public.conftest import live_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

#: A4 at CSS pixels (96 per inch): 210 x 297 mm; the page margins are 18 mm top and bottom.
A4 = {"width": round(210 / 25.4 * 96), "height": round(297 / 25.4 * 96)}
PRINTABLE_HEIGHT = (297 - 2 * 18) / 25.4 * 96


def _prepare(server) -> str:
    """The served address as the public base URL, letter details and an administrator."""
    server.app.config["PUBLIC_BASE_URL"] = server.url
    with server.app.app_context():
        campaign = db.session.merge(server.data.campaign)
        campaign.commissioner, campaign.evaluator_org = "鹤山区财政局", "某某评价有限公司"
        campaign.hotline = "0737-1234567"
        db.session.add(campaign)
        admin = make_user(db.session, Role.ADMIN)
        db.session.commit()
        return admin.username


def test_letters_fit_a4_and_their_qr_codes_open_the_served_survey(live_server,  # noqa: F811
                                                                   tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    username = _prepare(live_server)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=A4, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{live_server.url}/auth/login")
            page.fill('[name="username"]', username)
            page.fill('[name="password"]', PASSWORD)
            page.click('[type="submit"]')
            page.goto(f"{live_server.url}/admin/campaigns/live-survey/letters")
            # The test server listens on loopback: warned about on screen (phones could not
            # open it), but it is the address served, so no mismatch; the warning is not
            # printed.
            warning = page.locator(".address-warning")
            assert warning.is_visible() and "指向打开它的设备本身" in warning.inner_text()
            assert "本页面是通过" not in warning.inner_text()
            page.emulate_media(media="print")
            assert not warning.is_visible()
            codes = page.locator("article.letter").evaluate_all(
                "els => els.map(e => e.dataset.household)")
            assert len(codes) == 4
            decoded = {}
            for code in codes:
                letter = page.locator(f'article[data-household="{code}"]')
                box = letter.bounding_box()
                assert box["height"] <= PRINTABLE_HEIGHT, (code, box)
                assert box["width"] <= A4["width"] - 2 * 20 / 25.4 * 96 + 1
                shot = tmp_path / f"{code}.png"
                letter.screenshot(path=str(shot))
                decoded[code] = [r.text for r in zxingcpp.read_barcodes(Image.open(shot))]
            pdf = page.pdf(format="A4", prefer_css_page_size=True)
            # Each letter one page: the page objects of the PDF, not its /Pages tree.
            assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == len(codes)
            for code, texts in decoded.items():
                (url,) = texts
                assert url.startswith(f"{live_server.url}/s/"), url
                # ... and the decoded address opens that household's survey.
                survey = context.new_page()
                reply = survey.goto(url)
                assert reply.status == 200 and survey.locator('form input[name="instance_id"]'
                                                               ).count() == 1
                survey.close()
                assert urlsplit(url).netloc == urlsplit(live_server.url).netloc
            # The poster, with the same details, is one A4 page too.
            page.goto(f"{live_server.url}/admin/campaigns/live-survey/poster")
            pdf = page.pdf(format="A4", prefer_css_page_size=True)
            assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
        finally:
            browser.close()
