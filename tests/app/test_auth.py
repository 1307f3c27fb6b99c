import pytest

from survey_app.extensions import db
from survey_app.models import Role
from tests.factories import PASSWORD, login, make_user

PROTECTED = [
    ("/entry/", {Role.WORKER, Role.ADMIN}),
    ("/evaluate/", {Role.EVALUATOR, Role.ADMIN}),
    ("/admin/", {Role.ADMIN}),
]


@pytest.mark.parametrize(("path", "_roles"), PROTECTED)
def test_logged_out_user_is_sent_to_login(client, path, _roles):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("path", "allowed"), PROTECTED)
def test_role_checks(client, session, role, path, allowed):
    user = make_user(session, role)
    assert login(client, user).status_code == 302
    assert client.get(path).status_code == (200 if role in allowed else 403)


def test_login_lands_on_the_role_home(client, session):
    worker = make_user(session, Role.WORKER)
    response = login(client, worker)
    assert response.headers["Location"] == "/entry/"


def test_wrong_password_and_unknown_user_look_the_same(client, session):
    user = make_user(session, Role.ADMIN)
    wrong = client.post("/auth/login", data={"username": user.username, "password": "nope-nope"})
    unknown = client.post("/auth/login", data={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 200
    # The typed username is echoed back in the form; everything else must match.
    assert wrong.data.replace(user.username.encode(), b"NAME") == \
        unknown.data.replace(b"ghost", b"NAME")


def test_open_redirect_after_login_is_ignored(client, session):
    user = make_user(session, Role.ADMIN)
    response = client.post("/auth/login?next=//evil.example/x",
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", [
    "/\\evil.example/x", "/\\/evil.example", "/\t/evil.example",
    "/\r\n/evil.example", "https://evil.example/", "javascript:alert(1)"])
def test_next_that_a_browser_reads_as_another_host_is_ignored(client, session, target):
    # Browsers read a backslash as a slash and drop tabs and newlines: "/\\evil.example"
    # and "/<tab>/evil.example" are "//evil.example", another host.
    user = make_user(session, Role.ADMIN)
    response = client.post("/auth/login", query_string={"next": target},
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"


def test_a_same_site_next_is_followed(client, session):
    user = make_user(session, Role.ADMIN)
    response = client.post("/auth/login", query_string={"next": "/admin/users?x=1"},
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/users?x=1"


def test_logout_ends_the_session(client, session):
    user = make_user(session, Role.ADMIN)
    login(client, user)
    client.post("/auth/logout")
    assert client.get("/admin/").status_code == 302


def test_post_without_csrf_token_is_rejected(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user(db.session, Role.ADMIN)
    client = app.test_client()
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # still logged out


def test_login_is_throttled_after_repeated_failures(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    attempt = {"username": "x", "password": "wrong-pass"}
    codes = [client.post("/auth/login", data=attempt).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_security_headers_present(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_password_hashes_use_full_cost_scrypt(make_app):
    from survey_app.config import DEFAULTS

    app = make_app(PASSWORD_HASH_METHOD=DEFAULTS["PASSWORD_HASH_METHOD"])
    with app.app_context():
        user = make_user(db.session, Role.ADMIN)
    assert user.password_hash.startswith("scrypt:32768:8:1$")


def test_two_logged_in_clients_in_one_test_stay_apart(app, session):
    admin, worker = make_user(session, Role.ADMIN), make_user(session, Role.WORKER)
    admin_client, worker_client = app.test_client(), app.test_client()
    login(admin_client, admin)
    login(worker_client, worker)
    assert admin_client.get("/admin/").status_code == 200
    assert worker_client.get("/admin/").status_code == 403
