"""Serving the app to a real browser: a werkzeug server in a thread, and Debian's Chromium."""

from __future__ import annotations

import threading
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


def migrated_sqlite_app(path):
    """An app on a new SQLite file at ``path``, migrated to head (for a served browser test)."""
    from survey_app import create_app
    from survey_app.migrate import upgrade
    from tests.fixtures.settings import TEST_SETTINGS

    url = f"sqlite:///{path}"
    upgrade(url)
    return create_app({**TEST_SETTINGS, "DATABASE_URL": url})
