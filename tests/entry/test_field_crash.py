"""The server killed during a sync (issue 22): the worker's phone posts an interview, the
server stores it and dies before the answer reaches the phone (gunicorn SIGKILLed); restarted,
the phone sends it again with the rest: every interview stored once, none lost."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from survey_app import create_app
from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.models import Response, ResponseMode
from tests.entry.conftest import build_field
from tests.entry.test_field_browser import _interview, _log_in
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import CHROMIUM, CHROMIUM_ARGS
from tests.reliability.harness import GunicornServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _interviews(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        receipts = session.exec(select(Response.instance_id).where(
            Response.mode == ResponseMode.INTERVIEW)).all()
    engine.dispose()
    return sorted(receipts)


def test_an_interview_stored_by_a_server_killed_before_answering_is_not_stored_twice(
        fresh_database_url, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": fresh_database_url})
    with app.app_context():
        world = build_field(db.session, double_entry=False, count_a=3, count_b=1)
        slug, username = world.campaign.slug, world.worker_a.username
        db.session.commit()
    db.dispose(app)
    server = GunicornServer(fresh_database_url, workers=1)
    server.start()
    posts: list[str] = []

    def store_then_die(route):
        posts.append(route.request.url)
        if len(posts) != 2:
            route.continue_()
            return
        route.fetch()  # the server stores the second interview ...
        server.kill_hard()  # ... and dies before its answer reaches the phone
        route.abort("connectionreset")

    try:
        with playwright_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                locale="zh-CN")
            page = context.pages[0]
            page.goto(f"{server.base_url}/auth/login?next=/entry/{slug}/field/")
            _log_in(page, username)
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_selector("#households button")
            context.set_offline(True)
            for index in range(3):
                _interview(page, index)
            # On the context, not the page: the service worker's Background Sync may send
            # first when the network returns, and a page route would not see its posts.
            context.route("**/field/interviews", store_then_die)
            context.set_offline(False)
            page.click("#sync")
            page.wait_for_selector("text=发送失败")
            assert len(_interviews(fresh_database_url)) == 2  # the second was stored
            assert "2" in page.text_content("#count")  # ... but the phone still holds it

            server.start()  # same port, same origin
            page.click("#sync")
            page.wait_for_function(
                "() => document.querySelector('#count').textContent.includes('0')")
            kept = page.evaluate(f"() => FieldStore.all({slug!r})")
            context.close()
    finally:
        server.stop()
    stored = _interviews(fresh_database_url)
    assert stored == sorted(r["instance_id"] for r in kept)
    assert len(stored) == 3 and all(r["state"] == "sent" for r in kept)
