"""The offline interviewer page in Debian's Chromium (issue 22): loaded once, reloaded with no
network from its service worker, three interviews kept in IndexedDB across a browser
restart, sent when the network returns, each stored once however often it is sent."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import InterviewParadata, Response, ResponseMode
from survey_app.services import contact_vault
from survey_app.services.contact_vault import Contact
from tests.entry.conftest import build_field
from tests.factories import PASSWORD
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_app, serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live(tmp_path):
    app = migrated_sqlite_app(tmp_path / "field.db")
    with app.app_context():
        world = build_field(db.session, double_entry=False, count_a=4, count_b=1)
        for household in world.households_a:
            contact_vault.seal_household(household, Contact("赵六", "龙岭路8号", "13700000008"),
                                         secret=TEST_SETTINGS["CONTACT_KEY"])
            db.session.add(household)
        info = {"slug": world.campaign.slug, "worker": world.worker_a.username,
                "worker2": world.worker_a2.username, "worker_id": world.worker_a.id}
        db.session.commit()
    try:
        with serve_in_thread(app) as base:
            yield app, base, info
    finally:
        db.dispose(app)


# Every kept interview posted again straight to the server (no lock, no state check), its
# promise left in window.resent.
RESEND = """([slug, packUrl, syncUrl]) => { window.resent = FieldStore.all(slug).then(rows =>
  fetch(packUrl, {cache: "no-store"}).then(r => r.json()).then(pack => Promise.all(rows.map(
    r => fetch(syncUrl, {method: "POST", headers: {"Content-Type": "application/json",
                                                   "X-CSRFToken": pack.csrf_token},
      body: JSON.stringify({instance_id: r.instance_id, household_id: r.household_id,
                            answers: r.answers, paradata: r.paradata})})
      .then(res => res.json().then(b => [res.status, b.receipt])))))); }"""


def _open(playwright, profile):
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="zh-CN",
        viewport={"width": 360, "height": 640})
    return context, context.pages[0] if context.pages else context.new_page()


def _interview(page, index: int) -> None:
    """Answer one household's questions: the first option, 3 people, no comment."""
    page.locator("#households button:not([disabled])").first.click()
    for _ in range(40):
        if page.is_hidden("#interview"):
            return
        if page.locator("#question input[type=radio]").count():
            page.locator("#question label.option").nth(index % 2).click()
        elif page.locator("#question input[type=text]").count():
            page.fill("#question input[type=text]", "3")
        last = page.text_content("#next") == "完成并保存"
        page.click("#next")
        if last and page.is_hidden("#error"):
            page.wait_for_selector("#interview", state="hidden")
            return
    raise AssertionError("the interview did not end")


def _log_in(page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")


def _open_with_contacts(page, base: str, info: dict) -> None:
    """Worker A signs in on the field page, answers the position question and keeps the
    households' addresses for the visits."""
    page.goto(f"{base}/auth/login?next=/entry/{info['slug']}/field/")
    _log_in(page, info["worker"])
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_selector("#households button")
    page.click("[data-position=no]")
    page.click("#get-contacts")
    page.wait_for_selector(".contact")


def _stored(app) -> list[Response]:
    with app.app_context():
        return list(db.session.exec(select(Response).where(
            Response.mode == ResponseMode.INTERVIEW)).all())


def _waiting(page) -> str:
    return page.text_content("#count") or ""


def test_three_interviews_offline_survive_a_restart_and_are_stored_once(live, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    field = f"{base}/entry/{info['slug']}/field/"
    profile = tmp_path / "profile"
    with playwright_api.sync_playwright() as playwright:
        context, page = _open(playwright, profile)
        page.goto(f"{base}/auth/login?next=/entry/{info['slug']}/field/")
        _log_in(page, info["worker"])
        assert page.url == field
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_selector("#households button")
        page.click("[data-position=no]")  # asked once, refused
        page.click("#get-contacts")  # kept for the visits, each reveal audited
        page.wait_for_selector(".contact")

        context.set_offline(True)
        assert page.reload().from_service_worker
        page.wait_for_selector("#households button")
        assert "离线" in page.text_content("#net")
        assert page.locator(".contact").count() == 4
        for index in range(3):
            _interview(page, index)
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('3')")
        page.screenshot(path=str(tmp_path / "field-360.png"))
        context.close()
        assert _stored(app) == []

        context, page = _open(playwright, profile)  # the phone restarted: same storage
        context.set_offline(True)
        assert page.goto(field).from_service_worker
        page.wait_for_selector("#households button")
        assert "3" in _waiting(page)
        context.set_offline(False)
        page.click("#sync")
        # The login was a browser-session cookie, gone with the restart: the page says so and
        # keeps the interviews; logged in again, the page sends them on opening.
        page.wait_for_selector("#login", state="visible")
        assert "3" in _waiting(page)
        with page.expect_navigation():
            page.click("#login a")
        _log_in(page, info["worker"])
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('0')")
        assert len(page.locator("#outcomes li.sent").all()) == 3
        # Sent: the three households' addresses left the phone; the fourth's stays.
        page.wait_for_function("() => document.querySelectorAll('.contact').length === 1")
        first = sorted(r.receipt_code for r in _stored(app))
        assert len(first) == 3

        # Sent again, from two tabs at once, bypassing the page's lock: still three.
        second = context.new_page()
        second.goto(field)
        second.wait_for_selector("#households button")
        args = [info["slug"], field + "pack.json", field + "interviews"]
        for tab in (page, second):  # both started before either is awaited
            tab.evaluate(RESEND, args)
        answers = [tab.evaluate("() => window.resent") for tab in (page, second)]
        assert all(status == 200 for tab in answers for status, _ in tab)
        assert sorted(receipt for tab in answers for _, receipt in tab) == sorted(first * 2)
        page.click("#sync")
        stored = _stored(app)
        assert sorted(r.receipt_code for r in stored) == first
        context.close()
    with app.app_context():
        paradata = db.session.exec(select(InterviewParadata)).all()
        assert len(paradata) == 3
        assert all(p.position_status == "refused" and p.question_seconds for p in paradata)


def test_an_interview_kept_offline_is_sent_when_the_network_returns_and_its_address_cleared(
        live, tmp_path):
    """Back online, the page sends the kept interview by itself (the online event; the
    service worker's Background Sync where the browser has it), and once stored the
    household's name, address and phone are gone from the page and from IndexedDB."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    with playwright_api.sync_playwright() as playwright:
        context, page = _open(playwright, tmp_path / "profile")
        _open_with_contacts(page, base, info)
        assert page.locator(".contact").count() == 4

        context.set_offline(True)
        _interview(page, 0)
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('1')")
        assert page.locator(".contact").count() == 4  # not stored yet: still needed
        assert _stored(app) == []

        context.set_offline(False)  # no click: the page notices the network itself
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('0')")
        page.wait_for_function("() => document.querySelectorAll('.contact').length === 3")
        assert len(_stored(app)) == 1
        kept = page.evaluate("(slug) => FieldStore.contacts(slug)", info["slug"])
        assert len(kept) == 3 and "龙岭路8号" in str(kept)
        done = page.locator("#households li", has=page.locator("button[disabled]"))
        assert done.count() == 1 and done.locator(".contact").count() == 0
        for width, height in ((360, 640), (1280, 800)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(tmp_path / f"field-{width}.png"), full_page=True)
        context.close()


def test_a_shared_phone_keeps_each_workers_interviews_and_drops_the_addresses(live, tmp_path):
    """Worker A interviews offline and hands the phone to A2 (same community) before it is
    sent: A2's session does not send A's interview (it would be credited to A2), and the
    addresses revealed to A leave the phone; A signs in again and it is sent as A's."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    app, base, info = live
    login = f"{base}/auth/login?next=/entry/{info['slug']}/field/"
    with playwright_api.sync_playwright() as playwright:
        context, page = _open(playwright, tmp_path / "profile")
        _open_with_contacts(page, base, info)

        context.set_offline(True)
        _interview(page, 0)
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('1')")
        context.clear_cookies()  # A signs out; A2 signs in on the same phone
        context.set_offline(False)
        page.goto(login)
        _log_in(page, info["worker2"])
        page.wait_for_selector("#households button")
        page.click("#sync")
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('1')")
        assert _stored(app) == []
        assert page.evaluate("(slug) => FieldStore.contacts(slug)", info["slug"]) is None
        assert page.locator(".contact").count() == 0

        context.clear_cookies()
        page.goto(login)
        _log_in(page, info["worker"])
        page.wait_for_function("() => document.querySelector('#count').textContent.includes('0')")
        stored = _stored(app)
        assert [r.entered_by_id for r in stored] == [info["worker_id"]]
        context.close()
