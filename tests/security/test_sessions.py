"""Sessions: a new session cookie at login, old cookies dead after logout, and login answers
that do not tell an unknown user from a wrong password by their timing."""

from __future__ import annotations

import statistics
import time

import pytest
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import Role, User
from survey_app.services.account_policy import FREE_FAILURES
from tests.factories import PASSWORD, make_user


def _user(app, role=Role.ADMIN):
    with app.app_context():
        user = make_user(db.session, role)
        db.session.commit()
        return user.username


def _with_cookie(app, value):
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def test_login_issues_a_new_session_cookie(app):
    username = _user(app)
    client = app.test_client()
    client.get("/?lang=zh")  # an anonymous session exists before login
    before = client.get_cookie("session").value
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    # The pre-login cookie (e.g. planted by an attacker) does not carry the login.
    assert _with_cookie(app, before).get("/admin/").status_code == 302
    assert _with_cookie(app, after).get("/admin/").status_code == 200


def test_a_cookie_from_before_logout_no_longer_authenticates(app):
    username = _user(app)
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": PASSWORD})
    stolen = client.get_cookie("session").value
    assert _with_cookie(app, stolen).get("/admin/").status_code == 200
    client.post("/auth/logout")
    assert _with_cookie(app, stolen).get("/admin/").status_code == 302
    # Logging in again gives a fresh cookie; the old one stays dead.
    client.post("/auth/login", data={"username": username, "password": PASSWORD})
    fresh = client.get_cookie("session").value
    assert fresh != stolen
    assert _with_cookie(app, fresh).get("/admin/").status_code == 200
    assert _with_cookie(app, stolen).get("/admin/").status_code == 302


def test_session_cookie_flags(app):
    username = _user(app)
    response = app.test_client().post("/auth/login",
                                      data={"username": username, "password": PASSWORD})
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def _timed_login(client, data):
    started = time.perf_counter()
    response = client.post("/auth/login", data=data)
    assert response.status_code == 200
    return time.perf_counter() - started


@pytest.mark.slow
def test_unknown_user_and_wrong_password_take_similar_time(make_app):
    """Both paths hash a password: an unknown name must not answer measurably faster.

    Full-cost scrypt, as in production, so the hash dominates the request; the two kinds
    of attempt alternate so that load on a shared machine hits both alike. Without the
    dummy hash the unknown user answers in ~1 ms against tens of ms for a password check,
    a ratio far beyond the generous bound used here."""
    app = make_app(PASSWORD_HASH_METHOD="scrypt")
    username = _user(app, Role.WORKER)
    client = app.test_client()
    wrong = {"username": username, "password": "wrong-password-1"}
    unknown = {"username": "nobody-by-this-name", "password": "wrong-password-1"}
    _timed_login(client, wrong)  # warm-up (templates, first queries)
    _timed_login(client, unknown)
    known, missing = [], []
    for _ in range(7):
        known.append(_timed_login(client, wrong))
        missing.append(_timed_login(client, unknown))
    known_time, unknown_time = statistics.median(known), statistics.median(missing)
    ratio = max(known_time, unknown_time) / min(known_time, unknown_time)
    assert ratio < 3, (known_time, unknown_time)
    # The "wrong" attempts met a real account: it counted them until its backoff began
    # (attempts inside the wait hash a dummy password too, so they cost the same).
    with app.app_context():
        user = db.session.exec(select(User).where(User.username == username)).one()
        assert user.failed_logins == FREE_FAILURES + 1
