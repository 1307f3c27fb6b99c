"""The resident survey in Debian's real headless Chromium on a 360×640 phone screen.

Each test runs with JavaScript on and off: the form must work the same without it. axe-core
(bundled by the ``axe-playwright-python`` package, no download at test time) checks the
survey, error and receipt pages for serious or critical accessibility violations.
"""

from __future__ import annotations

import re

import pytest

from tests.live import CHROMIUM, CHROMIUM_ARGS
from tests.public.conftest import RELOCATED_ANSWERS

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
TEXT_TYPES = {"household_size", "comments"}


@pytest.fixture(scope="module")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings (axe needs script, so JS contexts only)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _answer_everything(page, *, javascript: bool) -> None:
    for qid, value in RELOCATED_ANSWERS.items():
        if qid in TEXT_TYPES:
            page.fill(f'[name="a_{qid}"]', value)
            continue
        if qid == "complaint_handling" and javascript:
            # The branch opens only once has_complained = 1 was chosen (done just before).
            assert page.is_visible("#q-complaint_handling")
        page.check(f'input[name="a_{qid}"][value="{value}"]')


@pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_resident_answers_on_a_phone(chromium, live_server, javascript):
    context = chromium.new_context(viewport=PHONE, java_script_enabled=javascript,
                                   locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    link = f"{live_server.url}/s/{live_server.data.token()}"
    try:
        page.goto(link)
        # The intro counts as the progress line does: 15, and the follow-up apart (ux4).
        intro = page.inner_text("#question-count")
        assert intro == "共 15 题；根据前面的回答，部分住户另有 1 题。"
        if javascript:
            assert page.inner_text("#progress") == "已答 0 题，共 15 题"
        # With script the skipped branch is hidden until it applies; without, it is shown
        # with a note saying when to answer it.
        assert page.is_visible("#q-complaint_handling") is (not javascript)
        assert not javascript or _serious_violations(page) == []

        page.click('input[name="submit"]')  # nothing answered: the error page
        assert page.is_visible("text=请回答本题。")
        assert not javascript or _serious_violations(page) == []

        _answer_everything(page, javascript=javascript)
        if javascript:  # the follow-up opened: it is the "1 more" the intro announced
            assert page.inner_text("#progress") == "已答 16 题，共 16 题"
        page.click('input[name="submit"]')
        page.wait_for_url(re.compile(r"/receipt/"))
        code = page.inner_text("#receipt-code")
        assert re.fullmatch(r"[A-Z0-9]{8}", code)
        assert not javascript or _serious_violations(page) == []

        page.goto(link)
        assert page.is_visible("text=您已完成本问卷")
        assert code in page.content()
    finally:
        context.close()
    assert all(url.startswith(live_server.url) for url in requested), requested


@pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)
def test_large_text_and_draft_without_script(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    link = f"{live_server.url}/s/{live_server.data.token('rental_subsidy')}"
    try:
        page.goto(link)
        page.check('input[name="a_age_band"][value="2"]')
        page.click('input[name="larger_text"]')
        assert "large-text" in page.get_attribute("body", "class")
        assert page.is_checked('input[name="a_age_band"][value="2"]')
        page.click('input[name="save"]')
        assert page.is_visible("text=答案已暂存")
        page.goto(link)
        assert page.is_checked('input[name="a_age_band"][value="2"]')
    finally:
        context.close()
