"""Serving the app to a real browser: a werkzeug server in a thread, and Debian's Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """Serve ``app`` on a free local port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def launch_chromium(playwright):
    """Debian's Chromium through Playwright; never a downloaded browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def migrated_sqlite_app(path, **settings):
    """An app on a new SQLite file at ``path``, migrated to head (for a served browser test),
    with ``settings`` over the test settings."""
    from survey_app import create_app
    from survey_app.migrate import upgrade
    from tests.fixtures.settings import TEST_SETTINGS

    url = f"sqlite:///{path}"
    upgrade(url)
    return create_app({**TEST_SETTINGS, "DATABASE_URL": url, **settings})


def focused(page) -> str:
    """The id (or, without one, the text) of the element that has the keyboard focus."""
    return page.evaluate("document.activeElement ? (document.activeElement.id || "
                         "document.activeElement.textContent.trim()) : ''")


def tab_to(page, wanted, limit: int = 80) -> None:
    """Press Tab until the focused element's id or text satisfies ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if wanted(focused(page)):
            return
    raise AssertionError(f"never reached by Tab; last focus: {focused(page)!r}")


def wait_for_focus(page, element_id: str, timeout: float = 5.0) -> None:
    """Poll from outside the page: wait_for_function evaluates a string in the page, which
    its CSP (no unsafe-eval) refuses."""
    deadline = time.monotonic() + timeout
    while focused(page) != element_id:
        if time.monotonic() > deadline:
            raise AssertionError(f"focus on {focused(page)!r}, not {element_id!r}")
        page.wait_for_timeout(50)
