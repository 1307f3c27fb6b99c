"""Region hierarchy: unit CSV import all or nothing with row errors, levels from GB/T 2260
codes, subtree queries by path, campaigns placed in units."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey_app.models import AuditEvent, Unit
from survey_app.services import units
from tests.factories import make_campaign

GOOD = ("代码,名称,上级代码\n"
        "430903,赫山区,430900\n"  # a child before its parent: written after it
        "430000,湖南省,\n"
        "430900,益阳市,430000\n"
        "430902,资阳区,430900\n"
        "430903001,赫山街道,430903\n"
        "430903001001,赫山社区,430903001\n")


def _import(session, text: str, encoding: str = "utf-8"):
    return units.import_units(units.read_unit_csv(text.encode(encoding)), session=session)


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(Unit)).one()


def test_good_file_builds_the_tree_with_paths(session):
    result = _import(session, GOOD)
    assert sorted(result.created) == sorted(["430000", "430900", "430902", "430903",
                                             "430903001", "430903001001"])
    community = units.unit_by_code("430903001001", session=session)
    assert community.level == "community"
    assert community.path == "/430000/430900/430903/430903001/430903001001/"
    city = units.unit_by_code("430900", session=session)
    assert [u.code for u in units.subtree(city, session=session)] == [
        "430900", "430902", "430903", "430903001", "430903001001"]
    assert [u.name for u in units.ancestors(community, session=session)] == [
        "湖南省", "益阳市", "赫山区", "赫山街道"]
    assert [u.code for u in units.children(city, session=session)] == ["430902", "430903"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "units.import")).one()


def test_import_is_idempotent_and_renames(session):
    _import(session, GOOD)
    again = _import(session, GOOD.replace("资阳区", "资阳区（新）"))
    assert again.created == [] and again.renamed == ["430902"] and again.unchanged == 5
    assert units.unit_by_code("430902", session=session).name == "资阳区（新）"


@pytest.mark.parametrize(("line", "column", "message"), [
    ("43090X,坏代码,430900", "code", "6位、9位或12位"),
    ("430921,某县,439900", "parent", "既不在文件中"),
    ("430921,某县,430000", None, None),  # a county directly under its province: allowed
    ("440103,某区,430900", "parent", "不能隶属于"),
    ("430903,赫山区重复,430900", "code", "重复"),
    ("430921,,430900", "name", "名称"),
    ("440000,广东省,430000", "parent", "没有上级"),
    ("430900001,某街道,430900", "parent", "不能隶属于"),  # a street under a city
])
def test_bad_rows_are_refused_with_row_and_column(session, line, column, message):
    before = _count(session)
    text = GOOD + line + "\n"
    if column is None:
        _import(session, text)
        return
    with pytest.raises(units.UnitImportError) as error:
        _import(session, text)
    assert _count(session) == before  # nothing written
    problem = next(p for p in error.value.problems if p.row == 8)
    assert problem.column == column and message in str(problem)


def test_moving_an_imported_unit_is_refused(session):
    _import(session, GOOD)
    with pytest.raises(units.UnitImportError, match="另一个上级"):
        _import(session, "code,name,parent\n430000,湖南省,\n430100,长沙市,430000\n"
                         "430902,资阳区,430100\n")
    assert units.unit_by_code("430100", session=session) is None


def test_gbk_file_and_english_headers(session):
    result = _import(session, "code,name,parent\n430000,湖南省,\n", encoding="gbk")
    assert result.created == ["430000"]


def test_missing_columns_and_empty_files(session):
    with pytest.raises(units.UnitImportError) as error:
        units.read_unit_csv("编号,名称\n1,a\n".encode())
    assert [p.column for p in error.value.problems] == ["code"]
    with pytest.raises(units.UnitImportError):
        _import(session, "code,name,parent\n")


def test_campaigns_under_a_unit_by_year(session):
    _import(session, GOOD)
    heshan, ziyang = (units.unit_by_code(c, session=session) for c in ("430903", "430902"))
    a = make_campaign(session, year=2021)
    b = make_campaign(session, year=2021)
    c = make_campaign(session, year=2022)
    make_campaign(session, year=2021)  # no unit: in no roll-up
    units.assign_campaign(a, heshan, session=session)
    units.assign_campaign(b, ziyang, session=session)
    units.assign_campaign(c, heshan, session=session)
    city = units.unit_by_code("430900", session=session)
    assert {x.slug for x, _u in units.campaigns_under(city, 2021, session=session)} == {
        a.slug, b.slug}
    assert [x.slug for x, _u in units.campaigns_under(heshan, 2022, session=session)] == [c.slug]
    index = {u.code: years for u, years in units.rollup_index(session=session)}
    assert index["430000"] == [2022, 2021] and index["430902"] == [2021]
    assert "430903001" not in index


def test_regions_commands(runner, session, tmp_path):
    empty = runner.invoke(args=["regions", "list"])
    assert empty.exit_code == 0 and "no units yet: survey-app regions import" in empty.output
    good, bad = tmp_path / "units.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8-sig")
    bad.write_text("code,name,parent\n430000,湖南省,\n430921,某县,439900\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(good)])
    assert result.exit_code == 0 and "6 created" in result.output
    refused = runner.invoke(args=["regions", "import", str(bad)])
    assert refused.exit_code != 0 and "439900" in refused.output
    listing = runner.invoke(args=["regions", "list", "430900"])
    assert listing.output.splitlines()[0].startswith("  430900\t益阳市")
    campaign = make_campaign(session)
    session.commit()
    assigned = runner.invoke(args=["regions", "assign", campaign.slug, "430903"])
    assert assigned.exit_code == 0, assigned.output
    rollup = runner.invoke(args=["rollup", "430900", str(campaign.year)])
    assert rollup.exit_code == 0 and "0 campaigns" in rollup.output
    assert campaign.slug in rollup.output  # no questionnaire: skipped, named


def test_admin_places_a_campaign_in_a_region(client, session):
    from survey_app.models import Role
    from tests.factories import login, make_user

    _import(session, GOOD)
    campaign = make_campaign(session)
    login(client, make_user(session, Role.ADMIN))
    url = f"/admin/campaigns/{campaign.slug}/unit"
    page = client.post(url, data={"code": "439999"})
    assert page.status_code == 400 and "没有此代码的区域" in page.get_data(as_text=True)
    assert client.post(url, data={"code": "12"}).status_code == 400
    assert client.post(url, data={"code": "430903"}).status_code == 302
    session.refresh(campaign)
    assert campaign.unit_id == units.unit_by_code("430903", session=session).id
    assert "赫山区（430903" in client.get(f"/admin/campaigns/{campaign.slug}").get_data(
        as_text=True)
    assert client.post(url, data={"code": ""}).status_code == 302
    session.refresh(campaign)
    assert campaign.unit_id is None


def test_a_grant_whose_unit_is_missing_sees_nothing(session):
    # Units are never deleted, but if a grant ever points nowhere the scope must fail
    # closed (see nothing), not open (None would mean "not limited": every county).
    from survey_app.models import Role, User
    from survey_app.services import unit_scope

    _import(session, GOOD)
    county = session.exec(select(Unit).where(Unit.level == "county")).first()
    campaign = make_campaign(session, slug="scoped-2021")
    units.assign_campaign(campaign, county, session=session)
    orphan = User(username="orphan", password_hash="x", role=Role.EVALUATOR, unit_id=987654)
    assert unit_scope.scope_path(orphan, session=session) == unit_scope.UNREACHABLE_PATH
    # Row-level security: the empty path, which sees nothing (and can be set: no NUL).
    from survey_app import row_security

    assert row_security.path_for(orphan, session=session) == ""
    assert not unit_scope.unit_visible(orphan, county, session=session)
    assert not unit_scope.campaign_visible(orphan, campaign, session=session)
