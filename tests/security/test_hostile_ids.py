"""Ids in URLs beyond the database's integers (found probing the new pages with forged
ids): SQLite cannot bind a number over 64 bits and PostgreSQL's INTEGER ends at 2**31 - 1,
so each such address was a server error; now 404, like any id that does not exist."""

from __future__ import annotations

import pytest

from tests.security.conftest import UNIT_CODES, login_cookie

HUGE = (2**31, 2**63, 10**20)


def _paths(slug: str, number: int) -> list[str]:
    return [f"/evaluate/units/{UNIT_CODES[1]}/{number}", f"/evaluate/{slug}/backchecks/{number}",
            f"/evaluate/{slug}/responses/{number}", f"/entry/{slug}/forms/{number}/reconcile"]


@pytest.mark.parametrize("number", HUGE)
def test_an_id_out_of_range_in_an_address_is_not_found(app, scenario, number):
    client = app.test_client()
    client.set_cookie("session", login_cookie(app, scenario.usernames["evaluator"]))
    for path in _paths(scenario.slug, number):
        assert client.get(path).status_code == 404, path


def test_the_largest_id_still_reaches_the_views(app, scenario):
    client = app.test_client()
    client.set_cookie("session", login_cookie(app, scenario.usernames["evaluator"]))
    largest = 2**31 - 1  # INTEGER on PostgreSQL
    assert client.get(f"/evaluate/units/{UNIT_CODES[1]}/{largest}").status_code == 200
    for path in _paths(scenario.slug, largest)[1:]:
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("number", HUGE)
def test_an_id_out_of_range_in_a_query_is_no_server_error(app, scenario, number):
    evaluator, admin = app.test_client(), app.test_client()
    evaluator.set_cookie("session", login_cookie(app, scenario.usernames["evaluator"]))
    admin.set_cookie("session", login_cookie(app, scenario.usernames["admin"]))
    assert evaluator.get(f"/evaluate/{scenario.slug}/comments?page={number}").status_code == 200
    for path in (f"/entry/{scenario.slug}/progress?community={number}",
                 f"/entry/{scenario.slug}/households?community={number}"):
        assert admin.get(path).status_code == 200, path
    letters = admin.get(f"/admin/campaigns/{scenario.slug}/letters?household={number}")
    assert letters.status_code == 404
