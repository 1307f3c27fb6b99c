"""Every route × every role gives the status written in tests/security/route_matrix.py,
and no GET changes the database.

Each request starts from a clean client carrying only the role's session cookie (or bearer
token under /api/), and runs inside a savepoint that is rolled back afterwards, so a POST
(logout, deleting a response, closing the campaign) cannot change what the next request
sees.
"""

from __future__ import annotations

import re

import pytest

from tests.security import route_matrix
from tests.security.conftest import (
    database_snapshot,
    login_cookie,
    snapshot_diff,
)
from tests.security.route_matrix import ROLES

SKIPPED_ENDPOINTS = {"static"}
METHODS_IGNORED = {"HEAD", "OPTIONS"}
PARAM_RE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def app_routes(app) -> list[str]:
    """``"METHOD rule"`` for every rule and method of the app (static files excepted)."""
    keys = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        keys += [f"{method} {rule.rule}" for method in sorted(rule.methods - METHODS_IGNORED)]
    return sorted(keys)


def test_every_route_is_in_the_matrix(app):
    routes = app_routes(app)
    missing = [key for key in routes if key not in route_matrix.MATRIX]
    assert not missing, (
        "routes missing from tests/security/route_matrix.py MATRIX; add one line per route "
        "and method with the expected status for each role, in the order "
        f"{', '.join(ROLES)}, e.g.\n"
        + "\n".join(f'    "{key}": (302, 302, 302, 403, 403, 403, 200),' for key in missing))
    stale = sorted(set(route_matrix.MATRIX) - set(routes))
    assert not stale, f"the matrix lists routes the app no longer has; remove them: {stale}"
    assert all(len(row) == len(ROLES) for row in route_matrix.MATRIX.values())


@pytest.fixture
def cookies(app, scenario) -> dict[str, str | None]:
    """Each role's session cookie: staff logged in, residents after opening their link."""
    jar: dict[str, str | None] = {"anonymous": None}
    for role in ("worker_a", "worker_b", "evaluator", "admin", *route_matrix.UNIT_ROLES):
        jar[role] = login_cookie(app, scenario.usernames[role])
    for role in ("resident", "resident_wrong_token"):
        client = app.test_client()
        client.get(f"/s/{scenario.params(role)['token']}")
        cookie = client.get_cookie("session")
        jar[role] = cookie.value if cookie else None
    return jar


def url_for_role(key: str, scenario, role: str) -> tuple[str, str]:
    method, rule = key.split(" ", 1)
    values = scenario.params(role)
    aliases = route_matrix.PARAMS.get(key, {})

    def fill(match: re.Match) -> str:
        name = match.group(1)
        return str(values[aliases.get(name, name)])

    return method, PARAM_RE.sub(fill, rule)


def send(app, scenario, cookies, key: str, role: str):
    method, url = url_for_role(key, scenario, role)
    client = app.test_client()
    if cookies.get(role):
        client.set_cookie("session", cookies[role])
    headers = {}
    if url.startswith("/api/") and role in scenario.api_tokens:
        headers["Authorization"] = f"Bearer {scenario.api_tokens[role]}"
    # Buffered: a streamed export must finish (and close its session) inside the savepoint.
    if method == "GET":
        return client.get(url, headers=headers, buffered=True)
    body = route_matrix.BODIES.get(key, {})
    return client.post(url, data=body(scenario) if callable(body) else body, headers=headers,
                       buffered=True)


@pytest.mark.slow
def test_every_route_answers_each_role_as_the_matrix_says(app, scenario, cookies, _connection):
    mismatches = []
    for key in app_routes(app):
        expected = route_matrix.MATRIX.get(key)
        if expected is None:
            continue  # reported by test_every_route_is_in_the_matrix
        for role, status in zip(ROLES, expected, strict=True):
            savepoint = _connection.begin_nested()
            try:
                response = send(app, scenario, cookies, key, role)
            finally:
                savepoint.rollback()
            got = response.status_code
            if got != status:
                mismatches.append(f"{key} as {role}: expected {status}, got {got}")
            elif (got == 302 and role in ("anonymous", "resident", "resident_wrong_token")
                  and key.split(" ", 1)[1].startswith(route_matrix.STAFF_PREFIXES)
                  and not response.headers["Location"].startswith("/auth/login")):
                # A logged-out visitor of a staff page goes to the login page, nowhere else.
                mismatches.append(f"{key} as {role}: redirected to "
                                  f"{response.headers['Location']}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.slow
def test_unit_scoped_roles_answer_as_the_matrix_says(app, scenario, cookies, _connection):
    """A role granted a unit reaches what lies below it: a city evaluator sees its county's
    campaign, a county admin runs it, another county's evaluator, admin or worker gets 404
    on it (route_matrix.UNIT_ROLES)."""
    mismatches = []
    for key in app_routes(app):
        if key not in route_matrix.MATRIX:
            continue
        for role in route_matrix.UNIT_ROLES:
            status = route_matrix.unit_role_status(key, role)
            savepoint = _connection.begin_nested()
            try:
                got = send(app, scenario, cookies, key, role).status_code
            finally:
                savepoint.rollback()
            if got != status:
                mismatches.append(f"{key} as {role}: expected {status}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def test_staff_pages_show_another_community_as_not_found(app, scenario, cookies):
    """Worker B asking for community A's household, paper form or print page: 404, as for
    something that does not exist (no oracle)."""
    for key, row in route_matrix.MATRIX.items():
        if "<int:household_id>" in key or "<int:form_id>" in key:
            worker_b = row[ROLES.index("worker_b")]
            assert worker_b in (403, 404), key
    client = app.test_client()
    client.set_cookie("session", cookies["worker_b"])
    base = f"/entry/{scenario.slug}/households/"
    assert client.get(base + str(scenario.household_a)).status_code == 404
    assert client.get(base + "999999").status_code == 404
    client.set_cookie("session", cookies["worker_a"])
    assert client.get(base + str(scenario.household_a)).status_code == 200
    assert client.get(base + str(scenario.household_b)).status_code == 404


def _read_only_audit(table: str, row) -> bool:
    # Exports are GETs that deliberately leave an audit event (who took the data out) and
    # anchor their snapshot in the audit chain, which seals the trail (auditseal rows).
    return table == "auditseal" or (
        table == "auditevent" and str(row["action"]).startswith(route_matrix.AUDITED_GETS))


@pytest.mark.slow
def test_no_get_changes_the_database(app, scenario, cookies, _connection):
    before = database_snapshot(_connection, ignore=_read_only_audit)
    audit_before = database_snapshot(_connection)["auditevent"][0]
    statuses = {}
    gets = [key for key in app_routes(app) if key.startswith("GET ")]
    for key in gets:
        for role in ROLES:
            statuses[(key, role)] = send(app, scenario, cookies, key, role).status_code
    after = database_snapshot(_connection, ignore=_read_only_audit)
    assert snapshot_diff(before, after) == {}
    # The admin really reached the pages (not only login redirects), exports included.
    assert all(statuses[(key, "admin")] < 500 for key in gets)
    assert statuses[("GET /evaluate/<slug>/export/<fmt>", "admin")] == 200
    assert database_snapshot(_connection)["auditevent"][0] > audit_before  # exports audited


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "summary"])
def test_a_streamed_export_ends_its_database_transaction(app, scenario, cookies, _connection,
                                                         fmt):
    """The export body streams after the request's teardown closed the session: the stream
    must end the transaction it reopened (in production: give its connection back)."""
    savepoint = _connection.begin_nested()
    client = app.test_client()
    client.set_cookie("session", cookies["evaluator"])
    response = client.get(f"/evaluate/{scenario.slug}/export/{fmt}", buffered=True)
    assert response.status_code == 200 and response.data
    assert _connection.get_nested_transaction() is savepoint
    savepoint.rollback()
