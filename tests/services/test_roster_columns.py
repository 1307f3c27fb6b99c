"""Column mapping on upload when the file's headers differ (issue 17, item 4)."""

from __future__ import annotations

import io

import pytest

from survey_app.services import roster, roster_files
from tests.services import rosters

HEADER = ["编码", "类别", "项目", "社区", "街道", "户主姓名", "身份证号", "手机", "备注"]


def _csv(header=HEADER) -> bytes:
    table = [[*row, "x"] for row in rosters.rows(3)]
    return rosters.csv_text(table, header=header).encode()


def test_headers_named_in_the_mapping_are_read():
    columns = roster_files.parse_column_mapping("编码=户编号\n手机＝联系电话；备注=忽略")
    rows = roster_files.read_roster_file("r.csv", _csv(), columns=columns)
    assert [r.values["household_code"] for r in rows] == ["H00000", "H00001", "H00002"]
    assert rows[0].values["phone"] == rosters.phone(0)
    # Problems name the column as the file spells it.
    assert rows[0].headers["phone"] == "手机"


def test_without_the_mapping_the_unknown_headers_say_how_to_map_them():
    with pytest.raises(roster.RosterImportError) as caught:
        roster_files.read_roster_file("r.csv", _csv())
    by_column = {p.column: p.message for p in caught.value.problems}
    assert set(by_column) >= {"编码", "手机", "备注", "户编号"}
    assert "or name it in the column mapping (文件中的列名=标准列名, 忽略 to skip it)" \
        in by_column["手机"]


@pytest.mark.parametrize("text", ["手机", "手机=电话号码2", "=联系电话"])
def test_a_mapping_line_that_names_no_standard_column_is_refused(text):
    with pytest.raises(roster.RosterImportError) as caught:
        roster_files.parse_column_mapping(text)
    (problem,) = caught.value.problems
    assert problem.column == "column mapping"
    assert problem.message.startswith(f"{text!r}: write 文件中的列名=标准列名")


def test_admin_upload_with_a_mapping(session, client):
    from sqlmodel import func, select

    from survey_app.models import Household, Role
    from tests.factories import login, make_campaign, make_user

    login(client, make_user(session, Role.ADMIN))
    campaign = make_campaign(session, slug="m1")
    response = client.post("/admin/campaigns/m1/roster", data={
        "roster": (io.BytesIO(_csv()), "r.csv"),
        "columns": "编码=户编号\n手机=联系电话\n备注=忽略"}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert session.exec(select(func.count()).select_from(Household).where(
        Household.campaign_id == campaign.id)).one() == 3


def test_cli_roster_import_with_columns(runner, tmp_path):
    assert runner.invoke(args=["campaign", "create", "m-1", "--title", "T"]).exit_code == 0
    path = tmp_path / "r.csv"
    path.write_bytes(_csv())
    result = runner.invoke(args=["roster", "import", "m-1", str(path), "--column", "编码=户编号",
                                 "--column", "手机=联系电话", "--column", "备注=忽略"])
    assert result.exit_code == 0, result.output
    assert "imported 3 households" in result.output
