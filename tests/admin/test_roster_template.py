"""The roster template (issue 17, item 4): downloadable as CSV and XLSX from the roster
page, Chinese headers the import reads, every accepted value of 类别 listed."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from survey_app.models import Role
from survey_app.services import roster, roster_files
from survey_app.services.roster import GROUP_VALUES
from tests.factories import login, make_campaign, make_user
from tests.fixtures.settings import TEST_SETTINGS


@pytest.fixture
def admin_client(app, session, client):
    login(client, make_user(session, Role.ADMIN))
    return client


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_downloads_and_reads_back_as_a_valid_roster(admin_client, fmt):
    response = admin_client.get(f"/admin/roster-template.{fmt}")
    assert response.status_code == 200
    assert f"roster-template.{fmt}" in response.headers["Content-Disposition"]
    rows = roster_files.read_roster_file(f"t.{fmt}", response.data)
    assert [r.headers["group"] for r in rows] == ["类别", "类别"]
    assert [r.values["household_code"] for r in rows] == ["示例001", "示例002"]
    assert roster.check_rows(rows, existing_codes=set(), existing_id_hashes=set(),
                             pii_key=TEST_SETTINGS["PII_KEY"]) == []


def test_xlsx_template_lists_every_accepted_group_value(admin_client):
    data = admin_client.get("/admin/roster-template.xlsx").data
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["名册", "填写说明"]
    assert [c.value for c in workbook["名册"][1]] == [
        "户编号", "类别", "项目", "社区", "街道", "户主姓名", "身份证号", "联系电话", "地址"]
    notes = " ".join(str(c.value) for row in workbook["填写说明"].iter_rows() for c in row
                     if c.value)
    assert all(value in notes for value in GROUP_VALUES)


def test_unknown_format_is_not_found(admin_client):
    assert admin_client.get("/admin/roster-template.pdf").status_code == 404


def test_roster_page_links_the_templates_and_names_the_group_values(session, admin_client):
    make_campaign(session, slug="t1")
    page = admin_client.get("/admin/campaigns/t1").get_data(as_text=True)
    assert 'href="/admin/roster-template.xlsx"' in page
    assert 'href="/admin/roster-template.csv"' in page
    # A Chinese page names the Chinese values; the English codes stay accepted (and listed
    # on the English page).
    assert "类别可填：棚改、棚改货币化安置、棚改货币化安置户（棚改货币化安置户）" in page
    english = admin_client.get("/admin/campaigns/t1?lang=en").get_data(as_text=True)
    assert "relocated, 棚改" in english or "relocated、棚改" in english
