"""Roster import: encodings, formats, all-or-nothing rejection, personal data never stored raw."""

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import Household
from survey_app.services import contact_vault, roster, roster_files
from tests.factories import make_campaign
from tests.fixtures.settings import TEST_SETTINGS
from tests.services import rosters

PII_KEY = TEST_SETTINGS["PII_KEY"]


def _import(session, campaign, filename, data):
    parsed = roster_files.read_roster_file(filename, data)
    return roster.import_roster(campaign, parsed, session=session, pii_key=PII_KEY,
                                contact_key=TEST_SETTINGS["CONTACT_KEY"])


def _count(session, campaign):
    return session.exec(select(func.count()).select_from(Household)
                        .where(Household.campaign_id == campaign.id)).one()


def test_good_file_of_1000_rows_imports_every_row(session):
    campaign = make_campaign(session)
    result = _import(session, campaign, "r.csv", rosters.csv_text(rosters.rows(1000)).encode())
    assert result.households == 1000 == _count(session, campaign)
    household = session.exec(select(Household).where(Household.household_code == "H00007")).one()
    assert household.id_number_masked == rosters.id_number(7)[:6] + "********" + \
        rosters.id_number(7)[-4:]
    assert household.phone_masked == "139****0007"
    assert household.head_name_masked == "王**"


def _set(column, value):
    def mutate(table, i):
        table[i][rosters.HEADER_ZH.index(column)] = value
    return mutate


def _copy_from(column, source_row):
    def mutate(table, i):
        index = rosters.HEADER_ZH.index(column)
        table[i][index] = table[source_row][index]
    return mutate


def _bad_checksum(table, i):
    value = table[i][6]
    table[i][6] = value[:17] + ("0" if value[17] != "0" else "1")


# Row 500 of the data is spreadsheet row 502 (header is row 1, data starts at row 2).
BAD_ROWS = [
    ("missing community", _set("社区", ""), "社区", "必填项为空"),
    ("missing household code", _set("户编号", ""), "户编号", "必填项为空"),
    ("ID check digit", _bad_checksum, "身份证号", "校验码"),
    ("ID too short", _set("身份证号", "43090319900101123"), "身份证号", "18位"),
    ("ID birth date", _set("身份证号", "430903199013321234"), "身份证号", None),
    ("bad phone", _set("联系电话", "1381234567"), "联系电话", "11位手机"),
    # A landline is accepted with its area code (issue 17), not without it.
    ("landline without area code", _set("联系电话", "4221234"), "联系电话",
     "固定电话缺少区号"),
    ("unknown group", _set("类别", "经济适用房"), "类别", "无法识别的住户类别"),
    ("duplicate household code", _copy_from("户编号", 3), "户编号", "户编号重复"),
    ("duplicate ID number", _copy_from("身份证号", 3), "身份证号", "身份证号重复"),
    ("relocated without project", _set("项目", ""), "项目", "须填写所属项目"),
]


@pytest.mark.parametrize(("mutate", "column", "reason"), [b[1:] for b in BAD_ROWS],
                         ids=[b[0] for b in BAD_ROWS])
def test_one_bad_row_among_1000_rejects_the_file_and_names_row_and_column(
        session, mutate, column, reason):
    campaign = make_campaign(session)
    table = rosters.rows(1000, relocated_share=0.6)
    mutate(table, 500)
    with pytest.raises(roster.RosterImportError) as caught:
        _import(session, campaign, "r.csv", rosters.csv_text(table).encode())
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(502, column)]
    if reason:
        assert reason in problems[0].message
    assert _count(session, campaign) == 0


def test_every_problem_is_listed_not_just_the_first(session):
    campaign = make_campaign(session)
    table = rosters.rows(50)
    table[4][7] = "12345"
    table[9][1] = "?"
    table[9][6] = "1"
    with pytest.raises(roster.RosterImportError) as caught:
        _import(session, campaign, "r.csv", rosters.csv_text(table).encode())
    assert {(p.row, p.column) for p in caught.value.problems} == {
        (6, "联系电话"), (11, "类别"), (11, "身份证号")}


@pytest.mark.parametrize(("encoding", "filename"), [
    ("gbk", "roster.csv"), ("utf-8-sig", "roster.csv"), ("utf-8", "ROSTER.CSV"),
    ("gb18030", "roster.csv")])
def test_csv_encodings_as_excel_and_wps_save_them(session, encoding, filename):
    campaign = make_campaign(session)
    data = rosters.csv_text(rosters.rows(30)).encode(encoding)
    assert _import(session, campaign, filename, data).households == 30
    names = {h.household_group for h in session.exec(select(Household).where(
        Household.campaign_id == campaign.id)).all()}
    assert names == {"relocated", "rental_subsidy"}


def test_xlsx_with_english_headers_and_english_group_values(session):
    campaign = make_campaign(session)
    table = rosters.rows(40)
    for row in table:
        row[1] = {"棚改": "relocated", "租赁补贴": "Rental_Subsidy"}[row[1]]
    data = rosters.xlsx_bytes(table, header=rosters.HEADER_EN)
    assert _import(session, campaign, "roster.xlsx", data).households == 40


def test_xlsx_bad_row_is_reported_with_the_header_the_file_uses(session):
    campaign = make_campaign(session)
    table = rosters.rows(10)
    table[2][7] = "12"
    with pytest.raises(roster.RosterImportError) as caught:
        _import(session, campaign, "r.xlsx", rosters.xlsx_bytes(table, header=rosters.HEADER_EN))
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "phone")]


@pytest.mark.parametrize(("filename", "data", "column", "reason"), [
    ("r.txt", b"x", "文件", "只接受.csv和.xlsx"),
    ("r.xlsx", b"not a zip", "文件", "不是可读取的 .xlsx"),
    ("r.csv", b"", "表头", "文件为空"),
    ("r.csv", "户编号,类别\nH1,棚改\n".encode(), "社区", "缺少必需的列"),
    ("r.csv", "户编号,类别,社区,楼栋\nH1,棚改,a,1\n".encode(), "楼栋", "无法识别的列"),
])
def test_unreadable_files_and_headers(session, filename, data, column, reason):
    with pytest.raises(roster.RosterImportError) as caught:
        roster_files.read_roster_file(filename, data)
    first = caught.value.problems[0]
    assert first.column == column and reason in first.message


def test_second_import_refuses_codes_and_ids_already_in_the_campaign(session):
    campaign = make_campaign(session)
    _import(session, campaign, "r.csv", rosters.csv_text(rosters.rows(10)).encode())
    with pytest.raises(roster.RosterImportError) as caught:
        _import(session, campaign, "r.csv", rosters.csv_text(rosters.rows(10)[:2]).encode())
    messages = {p.message for p in caught.value.problems}
    assert "本次调查中已有该户编号" in messages
    assert "本次调查中已有该身份证号" in messages
    assert _count(session, campaign) == 10


def _raw_values(table):
    return [v for row in table for v in (row[5], row[6], row[7], row[8])]


def _assert_sealed(session, campaign, table):
    """The clear values are in the vault: each household's sealed contact opens to its row."""
    by_code = {row[0]: row for row in table}
    households = session.exec(select(Household).where(Household.campaign_id == campaign.id)).all()
    assert len(households) == len(table)
    for household in households:
        contact = contact_vault.open_sealed(
            household.contact_sealed, campaign_id=campaign.id,
            household_code=household.household_code, secret=TEST_SETTINGS["CONTACT_KEY"])
        row = by_code[household.household_code]
        assert (contact.name, contact.phone, contact.address) == (row[5], row[7], row[8])


def test_no_raw_id_number_phone_name_or_address_anywhere_in_the_database(
        database_url, tmp_path, session):
    table = rosters.rows(200)
    raw = _raw_values(table)
    if database_url.startswith("sqlite"):
        # A fresh database file with the data committed, then read as bytes (WAL included).
        url = f"sqlite:///{tmp_path / 'pii.db'}"
        upgrade(url)
        application = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
        with application.app_context():
            campaign = make_campaign(db.session)
            _import(db.session, campaign, "r.csv", rosters.csv_text(table).encode("gbk"))
            db.session.commit()
            assert _count(db.session, campaign) == 200
            _assert_sealed(db.session, campaign, table)
        db.dispose(application)
        blob = b"".join(p.read_bytes() for p in tmp_path.glob("pii.db*"))
        assert "王**".encode() in blob  # the masked name is there, so the scan sees the data
        leaked = [v for v in raw if v.encode() in blob or v.encode("utf-16-le") in blob]
    else:
        campaign = make_campaign(session)
        _import(session, campaign, "r.csv", rosters.csv_text(table).encode())
        session.flush()
        _assert_sealed(session, campaign, table)
        connection = session.connection()
        inspector = inspect(connection)
        dump = []
        for table_name in inspector.get_table_names():
            for column in inspector.get_columns(table_name):
                dump.extend(value for (value,) in connection.execute(text(
                    f'SELECT CAST("{column["name"]}" AS TEXT) FROM "{table_name}"')) if value)
        blob = "\n".join(dump)
        assert "王**" in blob
        leaked = [v for v in raw if v in blob]
        # The text cast shows bytea as hex: read the vault's raw bytes too.
        sealed = [bytes(value) for (value,) in connection.execute(text(
            "SELECT contact_sealed FROM household WHERE contact_sealed IS NOT NULL"))]
        assert len(sealed) == len(table)
        leaked += [v for v in raw if any(v.encode() in value for value in sealed)]
    assert leaked == []
