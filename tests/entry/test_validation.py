"""Validation tables: printed codes and typed answers give specific messages, keep input."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import PaperForm
from survey_app.services.paper_entry import PrintedCodeError, check_digit, parse_printed_code
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from tests.entry.conftest import UserClient, form_data, typed_answers


@pytest.mark.parametrize(("typed", "expected"), [
    ("PG00001-1", "PG00001"),
    ("pg00001-1", "PG00001"),
    (" PG 00001 1 ", "PG00001"),
    ("PG000011", "PG00001"),
])
def test_printed_code_is_parsed(typed, expected):
    assert parse_printed_code(typed) == expected


@pytest.mark.parametrize(("typed", "reason"), [
    ("PG00001-2", "check_digit"),   # wrong check digit
    ("PG00010-1", "check_digit"),   # a swapped pair of digits
    ("PG00002-1", "check_digit"),   # one mistyped digit
    ("PG00001-X", "format"),        # the check digit is a digit
    ("PG#0001-1", "format"),
    ("7", "format"),
])
def test_bad_printed_codes_are_refused(typed, reason):
    with pytest.raises(PrintedCodeError) as caught:
        parse_printed_code(typed)
    assert caught.value.reason == reason


@pytest.mark.parametrize("code", ["PG00123", "ZL02500", "PG98765"])
def test_single_slips_and_neighbour_swaps_are_caught(code):
    digit = check_digit(code)
    for position, char in enumerate(code):
        if not char.isdigit():
            continue  # the letter prefix is printed, rarely retyped wrongly; not guaranteed
        for other in "0123456789".replace(char, ""):
            assert check_digit(code[:position] + other + code[position + 1:]) != digit
    for position in range(2, len(code) - 1):
        pair = code[position:position + 2]
        if pair[0] != pair[1] and pair not in ("09", "90"):  # Luhn's one blind spot
            swapped = code[:position] + pair[::-1] + code[position + 2:]
            assert check_digit(swapped) != digit, swapped


@pytest.mark.parametrize(("typed", "message"), [
    ("", "This field is required."),
    ("PG00001-2", "The check digit does not match this code"),
    ("PG00001-X", "Type the household code followed by its check digit"),
    ("PG99999-" + check_digit("PG99999"), "No household with this code in your community"),
])
def test_find_form_messages(app, world, typed, message):
    client = UserClient(app, world.worker_a)
    client.get("/entry/?lang=en")
    page = client.post(f"/entry/{world.campaign.slug}/", data={"code": typed})
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("household_size", "25", "Out of range: type a number from 1 to 20."),
    ("household_size", "0", "Out of range: type a number from 1 to 20."),
    ("household_size", "abc", "Type a whole number in digits."),
    ("benefit_standard", "7", "Not a code of this question. Allowed: 5 4 3 2 1 9."),
    ("overall_satisfaction", "", "Required: type the code marked on the paper."),
    ("is_household_head", "3", "Not a code of this question. Allowed: 1 2."),
    ("comments", "长" * 501, "Too long: at most 500 characters."),
])
def test_typed_answer_errors_are_shown_by_the_field(app, session, world, field, value,
                                                    message):
    household = world.households_a[0]
    version = version_for_group(world.campaign, household.household_group, session=session)
    typed = {**typed_answers(questionnaire_of(version), seed=11), field: value}
    client = UserClient(app, world.worker_a)
    client.get("/entry/?lang=en")
    page = client.post(f"/entry/{world.campaign.slug}/households/{household.id}/enter",
                       data=form_data(typed))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The message sits inside the field's own block, right after its input.
    block = html.split(f'data-qid="{field}"', 1)[1].split('data-qid="', 1)[0]
    assert message in block
    # Every other typed value is kept.
    for qid, kept in typed.items():
        if qid != field and kept:
            after = html.split(f'name="q_{qid}"', 1)[1][:200]
            assert f'value="{kept}"' in after
    assert session.exec(select(PaperForm)).all() == []


def test_skip_logic_is_enforced_by_the_server(app, session, world):
    household = world.households_a[0]
    version = version_for_group(world.campaign, household.household_group, session=session)
    typed = {**typed_answers(questionnaire_of(version), seed=11),
             "has_complained": "2", "complaint_handling": "1"}
    client = UserClient(app, world.worker_a)
    client.post(f"/entry/{world.campaign.slug}/households/{household.id}/enter",
                data=form_data(typed))
    form = session.exec(select(PaperForm)).one()
    from survey_app.models import PaperEntry
    entry = session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id)).one()
    assert "complaint_handling" not in entry.answers
    assert entry.answers["has_complained"] == "2"
