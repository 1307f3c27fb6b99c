"""Phone numbers as real rosters hold them (issue 17, item 4): landlines with area codes,
extensions, several numbers in a cell, full-width digits and spaces; every number keyed-hashed
and able to identify its household on the open link."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from survey_app.models import Household, HouseholdPhone
from survey_app.services import contact_vault, open_identity, roster
from survey_app.services.personal_data import id_number_check_char, keyed_hash
from survey_app.services.phone_numbers import (
    PhoneNumberError,
    canonical_phone,
    parse_phone_numbers,
)
from tests.factories import make_campaign
from tests.fixtures.settings import TEST_SETTINGS

KEY = TEST_SETTINGS["PII_KEY"]


@pytest.mark.parametrize(("cell", "expected"), [
    ("13812345678", [("13812345678", "mobile", "")]),
    ("138 1234 5678", [("13812345678", "mobile", "")]),
    ("138-1234-5678", [("13812345678", "mobile", "")]),
    ("+86 138 1234 5678", [("13812345678", "mobile", "")]),
    ("8613812345678", [("13812345678", "mobile", "")]),
    ("１３８１２３４５６７８", [("13812345678", "mobile", "")]),
    ("0737-4212345", [("07374212345", "landline", "")]),
    ("(0737)4212345", [("07374212345", "landline", "")]),
    ("（0737）4212345", [("07374212345", "landline", "")]),
    ("０７３７－４２１２３４５", [("07374212345", "landline", "")]),
    ("0737 4212345", [("07374212345", "landline", "")]),
    ("07374212345", [("07374212345", "landline", "")]),
    ("010-65123456", [("01065123456", "landline", "")]),
    ("+86 10 6512 3456", [("01065123456", "landline", "")]),
    ("0737-4212345-801", [("07374212345", "landline", "801")]),
    ("0737-4212345转801", [("07374212345", "landline", "801")]),
    ("0737-4212345 分机 801", [("07374212345", "landline", "801")]),
    ("0737-4212345 ext. 801", [("07374212345", "landline", "801")]),
    ("13812345678；0737-4212345", [("13812345678", "mobile", ""),
                                   ("07374212345", "landline", "")]),
    ("13812345678,13912345678", [("13812345678", "mobile", ""), ("13912345678", "mobile", "")]),
    ("13812345678/13912345678", [("13812345678", "mobile", ""), ("13912345678", "mobile", "")]),
    ("13812345678、0737-4212345", [("13812345678", "mobile", ""),
                                   ("07374212345", "landline", "")]),
    ("13812345678 13912345678", [("13812345678", "mobile", ""), ("13912345678", "mobile", "")]),
    ("13812345678　0737-4212345", [("13812345678", "mobile", ""),
                                   ("07374212345", "landline", "")]),
    ("13812345678; 138 1234 5678", [("13812345678", "mobile", "")]),
    ("", []),
], ids=lambda value: value if isinstance(value, str) else None)
def test_cell_read_into_numbers(cell, expected):
    assert [(n.digits, n.kind, n.extension) for n in parse_phone_numbers(cell)] == expected


@pytest.mark.parametrize(("cell", "message"), [
    ("1381234567", "not an 11-digit mainland mobile number or a landline with its area code "
                   "(e.g. 0737-4212345)"),
    ("4212345", "a landline without its area code; write it with the area code "
                "(e.g. 0737-4212345)"),
    ("138123456789", "not an 11-digit mainland mobile number"),
    ("tel 13812345678", "holds characters other than digits"),
    ("13812345678；12345", "number 2 of 2 in the cell: not an 11-digit mainland mobile number"),
    ("13800000001,13800000002,13800000003,13800000004,13800000005",
     "5 phone numbers in one cell (at most 4)"),
], ids=["short-mobile", "no-area-code", "long", "letters", "second-bad", "too-many"])
def test_refused_with_the_part_and_the_reason_never_the_number(cell, message):
    with pytest.raises(PhoneNumberError) as caught:
        parse_phone_numbers(cell)
    assert str(caught.value).startswith(message)
    # The example in the message aside, no digits of the cell are shown.
    shown = str(caught.value).replace("0737-4212345", "")
    assert not any(digits in shown for digits in re.findall(r"\d{4,}", cell))


def test_canonical_phone_of_what_a_resident_types():
    assert canonical_phone("(0737) 421-2345") == canonical_phone("07374212345") == "07374212345"
    assert canonical_phone("0737-4212345；13812345678") is None


def _id_number(serial: int) -> str:
    first17 = f"43090319800101{serial:03d}"
    return first17 + id_number_check_char(first17)


CONTACT_KEY = TEST_SETTINGS["CONTACT_KEY"]


def test_roster_keeps_every_number_hashed_and_each_identifies_the_household(session):
    campaign = make_campaign(session, slug="phones")
    cells = ["０７３７－４２１２３４５ 转801；13812345678、(0737)4219999", "13900000000"]
    rows = [roster.RosterRow(row=i, values={
        "household_code": f"P{i}", "group": "租赁补贴", "community": "桃花仑社区",
        "id_number": _id_number(i), "phone": cell}) for i, cell in enumerate(cells, start=2)]
    roster.import_roster(campaign, rows, session=session, pii_key=KEY, contact_key=CONTACT_KEY)

    first, second = (session.exec(select(Household).where(Household.household_code == code))
                     .one() for code in ("P2", "P3"))
    assert (first.phone_hmac, first.phone_masked) == (keyed_hash("07374212345", KEY),
                                                      "073****2345")
    further = session.exec(select(HouseholdPhone).where(
        HouseholdPhone.household_id == first.id).order_by(HouseholdPhone.id)).all()
    assert [(p.phone_hmac, p.phone_masked) for p in further] == [
        (keyed_hash("13812345678", KEY), "138****5678"),
        (keyed_hash("07374219999", KEY), "073****9999")]
    # Nothing of the clear numbers is stored anywhere.
    stored = " ".join(str(v) for p in further for v in p.model_dump().values())
    assert "13812345678" not in stored and "4219999" not in stored
    assert second.phone_hmac == keyed_hash("13900000000", KEY)
    # The field worker's sealed copy holds every number as dialled, extension included.
    sealed = contact_vault.open_sealed(first.contact_sealed, campaign_id=campaign.id,
                                       household_code="P2", secret=CONTACT_KEY)
    assert sealed.phone == "07374212345转801；13812345678；07374219999"

    tail = _id_number(2)[-6:]
    for typed in ("0737-4212345", "138 1234 5678", "07374219999"):
        found = open_identity.by_id_and_phone(campaign.id, tail, typed, session=session, key=KEY)
        assert found is not None and found.id == first.id, typed
    assert open_identity.by_id_and_phone(campaign.id, tail, "13900000000", session=session,
                                         key=KEY) is None
