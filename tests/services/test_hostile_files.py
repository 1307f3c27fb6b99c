"""Hostile or broken files are refused before or while reading, with a clear message, on
every way in: roster upload (admin page), roster import (CLI), XLSForm import (issue 17,
item 3). Time and memory are measured by benchmarks/bench_hostile_files.py."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.datastructures import FileStorage

from questionnaires import workbooks
from questionnaires.xlsform import convert_xlsform
from survey_app.services import roster, roster_files
from tests.services import hostile_files, rosters


def _refusal(filename: str, data: bytes) -> str:
    with pytest.raises(roster.RosterImportError) as caught:
        roster_files.read_roster_file(filename, data)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (0, "file")
    return problem.message


@pytest.mark.parametrize(("build", "filename", "expected"), [
    (hostile_files.dimension_bomb, "r.xlsx",
     "the sheet xl/worksheets/sheet1.xml declares the range A1:XFD1048576 (1048576 rows × "
     "16384 columns; at most 50000 rows and 64 columns)"),
    (hostile_files.far_cell_bomb, "r.xlsx",
     "the sheet 'Sheet' goes beyond row 100000 (at most 50000 rows are read)"),
    (hostile_files.malformed_utf16, "r.csv",
     "the file starts with a UTF-16 byte-order mark but is not valid UTF-16 text"),
    (hostile_files.malformed_gbk, "r.csv",
     "the file is neither UTF-8 nor GBK/GB18030 text (byte 199); save it as CSV UTF-8"),
    (hostile_files.utf16_without_bom, "r.csv",
     "the file looks like UTF-16 text without a byte-order mark; save it as CSV UTF-8"),
], ids=["dimension-bomb", "far-cell", "malformed-utf16", "malformed-gbk", "utf16-no-bom"])
def test_roster_file_refused_with_a_bilingual_message(build, filename, expected):
    message = _refusal(filename, build())
    assert expected in message
    chinese, _, english = message.partition(" / ")
    assert chinese and english and not chinese.isascii()


def test_roster_zip_bomb_refused_from_the_central_directory(tmp_path):
    path = hostile_files.zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1024 * 1024
    message = _refusal("bomb.xlsx", path.read_bytes())
    assert "the workbook is too large once decompressed (200.0 MB in all, " \
           "xl/worksheets/sheet1.xml 200.0 MB; at most 64.0 MB in all" in message


def test_roster_over_the_size_limit_refused_before_reading(tmp_path):
    path = hostile_files.big_csv(tmp_path / "big.csv", megabytes=50)
    with pytest.raises(roster.RosterImportError) as caught:
        roster_files.read_roster_path(str(path))
    (problem,) = caught.value.problems
    assert "the file is too large (50.0 MB; at most 8.0 MB)" in problem.message


def test_genuine_files_in_every_encoding_still_read():
    text = rosters.csv_text(rosters.rows(3))
    for data in (text.encode(), text.encode("utf-8-sig"), text.encode("gbk"),
                 text.encode("gb18030"), "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"),
                 "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")):
        assert [r.values["household_code"] for r in roster_files.read_roster_file("r.csv", data)] \
            == ["H00000", "H00001", "H00002"]
    rows = roster_files.read_roster_file("r.xlsx", hostile_files.small_xlsx())
    assert len(rows) == 5


def test_roster_row_limit(monkeypatch):
    monkeypatch.setattr(roster_files, "ROSTER_LIMITS", workbooks.Limits(max_rows=10))
    message = _refusal("r.csv", rosters.csv_text(rosters.rows(11)).encode())
    assert message == "文件超过 10 行 / the file has more than 10 rows"


def test_wall_clock_limit_stops_a_slow_sheet():
    limits = workbooks.Limits(max_seconds=0.0)
    with workbooks.SafeWorkbook(rosters.xlsx_bytes(rosters.rows(1500)), limits) as workbook:
        rows = workbook.sheets()[0].iter_rows()
        with pytest.raises(workbooks.FileRefused, match=r"took longer than 0 s \(row 1000\)"):
            list(rows)


# -- XLSForm import -----------------------------------------------------------------------------

def test_xlsform_dimension_bomb_and_zip_bomb_refused(tmp_path):
    from tests.questionnaires.test_xlsform import CHOICES, SURVEY, SURVEY_HEADER, write_workbook

    form = write_workbook(tmp_path / "form.xlsx", {"survey": [SURVEY_HEADER, *SURVEY],
                                                   "choices": CHOICES})
    bomb = tmp_path / "dimension.xlsx"
    bomb.write_bytes(hostile_files.dimension_bomb(form.read_bytes()))
    result = convert_xlsform(bomb)
    assert (result.yaml_text, result.questionnaire) == ("", None)
    assert "at most 5000 rows and 256 columns)" in str(result.problems[0])

    result = convert_xlsform(hostile_files.zip_bomb(tmp_path / "zip.xlsx"))
    assert (result.yaml_text, result.questionnaire) == ("", None)
    assert "refused without decompressing it" in str(result.problems[0])


# -- the ways in: admin upload and CLI ------------------------------------------------------------

@pytest.fixture
def admin_client(app, session, client):
    from survey_app.models import Role
    from tests.factories import login, make_user

    login(client, make_user(session, Role.ADMIN))
    return client


def _upload(client, data: bytes, filename: str = "roster.csv"):
    return client.post("/admin/campaigns/h1/roster",
                       data={"roster": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("build", "filename", "expected"), [
    (hostile_files.malformed_utf16, "r.csv", "not valid UTF-16 text"),
    (hostile_files.dimension_bomb, "r.xlsx", "declares the range A1:XFD1048576"),
], ids=["malformed-utf16", "dimension-bomb"])
def test_admin_upload_shows_the_refusal_not_a_500(session, admin_client, build, filename,
                                                  expected):
    from tests.factories import make_campaign

    make_campaign(session, slug="h1")
    response = _upload(admin_client, build(), filename)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_admin_upload_of_50_mb_is_refused_with_the_limit(session, admin_client):
    from werkzeug.test import encode_multipart

    from tests.factories import make_campaign

    make_campaign(session, slug="h1")
    # Encoded here, in memory: the test client would spool 50 MB to a temporary file that
    # nothing closes once the app refuses the request.
    boundary, body = encode_multipart(
        {"roster": FileStorage(io.BytesIO(b"x" * (50 * 1024 * 1024)), "roster.csv")})
    response = admin_client.post("/admin/campaigns/h1/roster", data=body,
                                 content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "8 MB" in response.get_data(as_text=True)


def test_cli_roster_import_refuses_a_50_mb_file(runner, tmp_path):
    assert runner.invoke(args=["campaign", "create", "h-1", "--title", "T"]).exit_code == 0
    path = hostile_files.big_csv(tmp_path / "big.csv", megabytes=50)
    result = runner.invoke(args=["roster", "import", "h-1", str(path)])
    assert result.exit_code == 1
    assert "the file is too large (50.0 MB; at most 8.0 MB)" in result.output
    assert "nothing was imported" in result.output


def test_a_value_beyond_the_column_limit_is_refused_not_cut_off():
    table = rosters.rows(3)
    table[1] = [*table[1], *[""] * 60, "beyond"]
    declared = _refusal("r.xlsx", rosters.xlsx_bytes(table))
    assert declared.endswith("declares the range A1:BR4 (4 rows × 70 columns; at most 50000 "
                             "rows and 64 columns)")
    # Without the <dimension>, the row itself is seen while reading.
    undeclared = hostile_files._rewrite_sheet(
        rosters.xlsx_bytes(table), lambda xml: re.sub(rb"<dimension[^>]*/>", b"", xml))
    message = _refusal("r.xlsx", undeclared)
    assert message.endswith("the sheet 'Sheet' has more than 64 columns (row 3)")


def test_an_oversized_yaml_questionnaire_is_refused_before_reading(tmp_path):
    from questionnaires import QuestionnaireError, load_file

    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:
        out.truncate(3 * 1024 * 1024)
    with pytest.raises(QuestionnaireError) as caught:
        load_file(path)
    assert caught.value.issues[0].message.endswith(
        "the file is too large (3.0 MB; at most 2.0 MB)")
