"""Wrong passwords sent in parallel to one account (attack3 finding): on PostgreSQL each
attempt read the failure count before the others had written theirs, so a burst had every
password checked and the count lost updates; the account's backoff meant little against a
guesser sending its attempts at once from many addresses."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlencode, urlsplit

from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services.account_policy import FREE_FAILURES
from tests.factories import PASSWORD, make_user

PARALLEL = 16


def _login_in_parallel(base_url: str, username: str, password: str) -> None:
    parts = urlsplit(base_url)
    barrier = threading.Barrier(PARALLEL)
    body = urlencode({"username": username, "password": password})

    def attempt() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        barrier.wait()
        connection.request("POST", "/auth/login", body,
                           {"Content-Type": "application/x-www-form-urlencoded"})
        connection.getresponse().read()
        connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_a_burst_of_wrong_passwords_earns_the_backoff(live_server):
    with live_server.app.app_context():
        user = make_user(db.session)
        db.session.commit()
        username = user.username
    _login_in_parallel(live_server.url, username, "wrong password 1")
    with live_server.app.app_context():
        failures = db.session.exec(select(User.failed_logins).where(
            User.username == username)).one()
    # One attempt after the other: the free ones counted, the rest refused unchecked.
    assert failures == FREE_FAILURES + 1
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("POST", "/auth/login", urlencode({"username": username,
                                                         "password": PASSWORD}),
                       {"Content-Type": "application/x-www-form-urlencoded"})
    assert connection.getresponse().status == 200  # the right password waits too
