"""Community lists follow the account's unit scope: on the demo region (赫山区 430903,
资阳区 430902) a county's evaluator filters, and a county's admin creates workers, among
its own county's communities only; an unscoped account sees them all."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import Role, User
from survey_app.services import demo, unit_scope, units
from tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.demo_data

HESHAN, ZIYANG = ("HS-THL", "桃花仑社区"), ("ZY-DMS", "大码头社区")


def _scoped(session, role: str, code: str | None) -> User:
    user = make_user(session, role)
    if code is not None:
        unit_scope.grant_unit(user, units.unit_by_code(code, session=session), session=session)
    return user


@pytest.mark.parametrize(("code", "slug", "shown", "hidden"), [
    ("430903", demo.SLUG, HESHAN, ZIYANG),
    ("430902", "ziyang-2021", ZIYANG, HESHAN),
])
def test_a_county_evaluators_quality_filter_lists_its_communities(
        client, session, code, slug, shown, hidden):
    login(client, _scoped(session, Role.EVALUATOR, code))
    page = client.get(f"/evaluate/{slug}/quality").get_data(as_text=True)
    assert f'value="{shown[0]}"' in page and shown[1] in page
    assert f'value="{hidden[0]}"' not in page and hidden[1] not in page


def test_an_unscoped_evaluator_lists_every_community(client, session):
    login(client, _scoped(session, Role.EVALUATOR, None))
    page = client.get(f"/evaluate/{demo.SLUG}/quality").get_data(as_text=True)
    assert f'value="{HESHAN[0]}"' in page and f'value="{ZIYANG[0]}"' in page


def test_a_county_admin_creates_workers_in_its_communities_only(client, session):
    login(client, _scoped(session, Role.ADMIN, "430903"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'value="{HESHAN[0]}"' in page
    assert f'value="{ZIYANG[0]}"' not in page and ZIYANG[1] not in page
    answer = client.post("/admin/users", data={
        "username": "zy-worker", "password": PASSWORD, "community": ZIYANG[0]})
    assert answer.status_code == 400
    assert session.exec(select(User).where(User.username == "zy-worker")).first() is None
    answer = client.post("/admin/users", data={
        "username": "hs-worker", "password": PASSWORD, "community": HESHAN[0]})
    assert answer.status_code == 302


@pytest.mark.parametrize("page", ["households", "progress"])
def test_a_county_admins_entry_pages_list_its_communities_only(client, session, page):
    """attack3: the community choice on the entry pages listed every county's communities
    to a county's admin."""
    login(client, _scoped(session, Role.ADMIN, "430903"))
    html = client.get(f"/entry/{demo.SLUG}/{page}").get_data(as_text=True)
    assert HESHAN[1] in html
    assert ZIYANG[1] not in html
