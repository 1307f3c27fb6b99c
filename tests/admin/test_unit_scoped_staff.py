"""Roles granted at a unit reach everything below it, for admins and workers too (issue 23
item 1): a county admin runs its own county's campaigns and no other county's, a worker
granted a county works on that county's campaigns only (and in its own community there).

The demo region: 赫山区 (430903, heshan-2021 and heshan-2020) and 资阳区 (430902,
ziyang-2021) under 益阳市 (430900). Another county's campaign answers 404, like a campaign
that does not exist.
"""

from __future__ import annotations

import pytest

from survey_app.models import Campaign, Community, Role, User
from survey_app.services import unit_scope, units
from tests.factories import login, make_user

HESHAN, ZIYANG, CITY = "430903", "430902", "430900"


def _granted(session, role: str, code: str, **kwargs) -> User:
    user = make_user(session, role, **kwargs)
    unit_scope.grant_unit(user, units.unit_by_code(code, session=session), session=session)
    session.flush()
    return user


@pytest.mark.demo_data
def test_a_county_admin_runs_its_own_county_only(client, session):
    login(client, _granted(session, Role.ADMIN, HESHAN))
    index = client.get("/admin/").get_data(as_text=True)
    assert "heshan-2021" in index and "ziyang-2021" not in index
    assert client.get("/admin/campaigns/heshan-2021").status_code == 200
    for url in ("/admin/campaigns/ziyang-2021", "/admin/campaigns/ziyang-2021/letters",
                "/entry/ziyang-2021/", "/entry/ziyang-2021/progress",
                "/evaluate/ziyang-2021", "/evaluate/units/430900/2021"):
        assert client.get(url).status_code == 404, url
    assert client.post("/admin/campaigns/ziyang-2021/status",
                       data={"status": "open"}).status_code == 404
    assert client.get("/evaluate/units/430903/2021").status_code == 200


@pytest.mark.demo_data
def test_a_city_admin_runs_every_county_of_its_city(client, session):
    login(client, _granted(session, Role.ADMIN, CITY))
    index = client.get("/admin/").get_data(as_text=True)
    assert all(slug in index for slug in ("heshan-2021", "ziyang-2021", "taojiang-2021"))
    assert client.get("/admin/campaigns/ziyang-2021").status_code == 200


@pytest.mark.demo_data
def test_a_county_admins_new_campaign_is_its_countys(client, session):
    login(client, _granted(session, Role.ADMIN, HESHAN))
    response = client.post("/admin/campaigns/new", data={
        "slug": "heshan-2022", "title": "赫山区2022年度", "year": "2022"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    campaign = session.exec(
        Campaign.__table__.select().where(Campaign.__table__.c.slug == "heshan-2022")).one()
    assert campaign.unit_id == units.unit_by_code(HESHAN, session=session).id
    # ... and cannot be handed to another county, nor left without a county.
    for code in (ZIYANG, ""):
        answer = client.post("/admin/campaigns/heshan-2022/unit", data={"code": code})
        assert answer.status_code == 400, code
    assert client.post("/admin/campaigns/heshan-2022/unit",
                       data={"code": HESHAN}).status_code == 302


@pytest.mark.demo_data
def test_a_county_admin_manages_its_countys_accounts_only(client, session):
    admin = _granted(session, Role.ADMIN, HESHAN)
    own = _granted(session, Role.WORKER, HESHAN)
    other = _granted(session, Role.WORKER, ZIYANG)
    unscoped = make_user(session, Role.WORKER)
    login(client, admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert own.username in page
    assert other.username not in page and unscoped.username not in page
    assert client.post(f"/admin/users/{other.id}/active",
                       data={"active": "0"}).status_code == 404
    assert client.post(f"/admin/users/{own.id}/active", data={"active": "0"}).status_code == 302
    # A worker the county admin creates works in the county.
    community = session.exec(Community.__table__.select()).first()
    response = client.post("/admin/users", data={
        "username": "heshan-new-worker", "password": "a-long-enough-Passw0rd-2021",
        "community": community.code})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    created = session.exec(User.__table__.select().where(
        User.__table__.c.username == "heshan-new-worker")).one()
    assert created.unit_id == units.unit_by_code(HESHAN, session=session).id


@pytest.mark.demo_data
def test_a_worker_granted_a_county_stays_in_it(client, session):
    community = session.exec(Community.__table__.select()).first()
    worker = _granted(session, Role.WORKER, HESHAN,
                      community=session.get(Community, community.id))
    login(client, worker)
    index = client.get("/entry/").get_data(as_text=True)
    assert "赫山区2021年度" in index and "资阳区2021年度" not in index
    assert client.get("/entry/heshan-2021/").status_code == 200
    assert client.get("/entry/ziyang-2021/").status_code == 404
    assert client.get("/entry/ziyang-2021/field/pack.json").status_code == 404


def test_every_staff_role_can_be_granted_a_unit(session):
    units.import_units([units.UnitRow(2, "430000", "湖南省", "")], session=session)
    province = units.unit_by_code("430000", session=session)
    for role in Role:
        user = make_user(session, role)
        unit_scope.grant_unit(user, province, session=session)
        assert unit_scope.scope_path(user, session=session) == "/430000/"
    assert unit_scope.scope_path(None, session=session) == ""
