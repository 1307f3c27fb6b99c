"""The open link ties an answer to a roster household, or keeps it apart as unverified
(issue 16, item 1): identification by the letter's codes or by ID tail and phone, the
first response of a household counting across channels, limits that never lose answers."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from itsdangerous import TimestampSigner
from sqlmodel import func, select

from survey_app.models import CampaignStatus, Disposition, Household, HouseholdGroup, Response
from survey_app.services import open_identity, roster, sampling, tokens
from survey_app.services.personal_data import id_number_check_char
from survey_app.services.score_filters import ScoreFilters
from tests.factories import make_campaign
from tests.fixtures.settings import TEST_SETTINGS
from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data

KEY = TEST_SETTINGS["PII_KEY"]
#: The letter links of the ``campaign`` fixture's households, by household code.
LETTER_TOKENS: dict[str, str] = {}


def _id_number(serial: int) -> str:
    first17 = f"43090319800101{serial:03d}"
    return first17 + id_number_check_char(first17)


PEOPLE = [  # household code, group, ID number, phone
    ("HS-0001", "棚改", _id_number(11), "13800000001"),
    ("HS-0002", "棚改", _id_number(22), "13800000002"),
    ("HS-0003", "租赁补贴", _id_number(33), "13800000003"),
]


@pytest.fixture
def campaign(session):
    """An open campaign whose roster has ID numbers and phones; HS-0001 has a letter."""
    campaign = make_campaign(session, slug="ident", status=CampaignStatus.OPEN)
    from survey_app.services import questionnaire_versions

    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    rows = [roster.RosterRow(row=i, values={
        "household_code": code, "group": group, "community": "桃花仑社区",
        "project": "城东项目" if group == "棚改" else "",
        "id_number": id_number, "phone": phone})
        for i, (code, group, id_number, phone) in enumerate(PEOPLE, start=2)]
    roster.import_roster(campaign, rows, session=session, pii_key=KEY,
                         contact_key=TEST_SETTINGS["CONTACT_KEY"])
    sampling.draw_sample(campaign, seed=1, session=session)
    issued = tokens.issue_tokens(campaign, session=session)
    LETTER_TOKENS.clear()
    LETTER_TOKENS.update({item.household.household_code: item.token for item in issued})
    return campaign


def _household(session, code: str) -> Household:
    return session.exec(select(Household).where(Household.household_code == code)).one()


def _identify(client, slug: str, **typed):
    return client.post(f"/c/{slug}/identify", data={"identify": "1", **typed})


def _instance_and_who(page: str) -> tuple[str, str]:
    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"', page).group(1)
    who = re.search(r'name="who" type="hidden" value="([^"]*)"', page).group(1)
    return instance, who


def test_the_letters_codes_identify_the_household_and_its_answer_counts(
        client, session, campaign):
    household = _household(session, "HS-0001")
    check = open_identity.check_code(campaign.id, "HS-0001", KEY)
    # Typed as people type: lower case, spaces, full-width characters.
    typed_check = check.lower()[:2] + " " + check[2:].translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    reply = _identify(client, "ident", household_code="hs 0001", check_code=typed_check)
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith(f"/c/ident/{household.household_group}?who=")
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "未核验" not in page
    instance, who = _instance_and_who(page)
    done = client.post(f"/c/ident/{household.household_group}",
                       data=form_data(RELOCATED_ANSWERS, instance, who=who))
    assert done.status_code == 302 and done.headers["Location"].endswith(instance)
    stored = session.exec(select(Response)).one()
    assert (stored.household_id, stored.mode) == (household.id, "web_open")
    session.refresh(household)
    assert household.disposition == Disposition.COMPLETED
    assert stored.receipt_code in client.get(done.headers["Location"]).get_data(as_text=True)
    # The household's letter now opens "already answered": the first response counts.
    letter = client.get(f"/s/{LETTER_TOKENS['HS-0001']}")
    assert "您已完成本问卷" in letter.get_data(as_text=True)
    # It counts in the scores like a token response.
    data_filter = ScoreFilters()
    from survey_app.services.counted_data import counted_snapshot, unverified_count

    assert unverified_count(campaign, data_filter, session=session) == 0
    assert counted_snapshot(campaign, data_filter, session=session) != counted_snapshot(
        campaign, ScoreFilters(group="nobody"), session=session)


def test_id_tail_and_phone_identify_a_household_without_a_letter(client, session, campaign):
    code, _group, id_number, phone = PEOPLE[2]
    household = _household(session, code)
    reply = _identify(client, "ident", id_tail=id_number[-6:].lower(),
                      phone=f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}")
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/c/ident/rental_subsidy?who=")
    identity = open_identity.read_identity(
        reply.headers["Location"].split("who=")[1], "ident", secret=TEST_SETTINGS["SECRET_KEY"])
    assert identity == (household.id, "id_phone")
    # The right phone with another household's ID tail matches nothing.
    wrong = _identify(client, "ident", id_tail=PEOPLE[0][2][-6:], phone=phone)
    assert wrong.status_code == 422 and "没有找到" in wrong.get_data(as_text=True)


@pytest.mark.parametrize("typed", [
    {"household_code": "HS-0001", "check_code": "22222"},  # a wrong check code
    {"household_code": "HS-0009", "check_code": "22222"},  # no such household
    {"household_code": "HS-0001"},  # one box of a pair
    {"id_tail": "000000", "phone": "13800000001"},
])
def test_what_matches_no_household_is_refused_with_what_was_typed_kept(client, campaign,
                                                                       typed):
    reply = _identify(client, "ident", **typed)
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    for value in typed.values():
        assert f'value="{value}"' in page
    assert "/s/" not in page and "who=" not in page


def test_failed_identifications_cost_the_address_guesses_and_keep_what_was_typed(
        make_app, session, campaign):
    client = make_app(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="2 per day").test_client()
    guesses = [_identify(client, "ident", household_code="HS-0001", check_code=f"2222{i}")
               for i in range(3)]
    assert [g.status_code for g in guesses] == [422, 422, 429]
    assert int(guesses[-1].headers["Retry-After"]) > 0
    assert 'value="22222"' in guesses[-1].get_data(as_text=True)
    # A correct identification is never counted or refused (residents behind one address).
    right = open_identity.check_code(campaign.id, "HS-0002", KEY)
    assert _identify(client, "ident", household_code="HS-0002",
                     check_code=right).status_code == 302


def test_a_household_that_answered_through_its_letter_gets_the_answered_page(
        client, session, campaign):
    token = LETTER_TOKENS["HS-0001"]
    page = client.get(f"/s/{token}").get_data(as_text=True)
    instance, _ = _instance_and_who(page)
    assert client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, instance)
                       ).status_code == 302
    check = open_identity.check_code(campaign.id, "HS-0001", KEY)
    reply = _identify(client, "ident", household_code="HS-0001", check_code=check)
    assert reply.status_code == 200 and "您家已经参加过本次调查" in reply.get_data(as_text=True)


def test_an_identified_post_after_the_household_answered_elsewhere_stores_nothing(
        client, session, campaign):
    household = _household(session, "HS-0002")
    check = open_identity.check_code(campaign.id, "HS-0002", KEY)
    form_page = client.get(_identify(client, "ident", household_code="HS-0002",
                                     check_code=check).headers["Location"])
    instance, who = _instance_and_who(form_page.get_data(as_text=True))
    # Meanwhile the household answers through another phone, identified the same way.
    other = client.application.test_client()
    other_page = other.get(_identify(other, "ident", household_code="HS-0002",
                                     check_code=check).headers["Location"])
    other_instance, other_who = _instance_and_who(other_page.get_data(as_text=True))
    group = household.household_group
    assert other.post(f"/c/ident/{group}", data=form_data(
        RELOCATED_ANSWERS, other_instance, who=other_who)).status_code == 302
    late = client.post(f"/c/ident/{group}", data=form_data(RELOCATED_ANSWERS, instance,
                                                           who=who))
    assert late.status_code == 200 and "您家已经参加过本次调查" in late.get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
    # The first post repeated (a double tap) still gets its receipt.
    again = other.post(f"/c/ident/{group}", data=form_data(RELOCATED_ANSWERS, other_instance,
                                                           who=other_who))
    assert again.status_code == 302 and again.headers["Location"].endswith(other_instance)


def test_a_forged_or_misplaced_identity_is_refused(client, session, campaign):
    household = _household(session, "HS-0001")
    secret = TEST_SETTINGS["SECRET_KEY"]
    signed = open_identity.sign_identity(open_identity.Identified(household, "code"), "ident",
                                         secret=secret)
    other_group = next(g for g in HouseholdGroup if g != household.household_group)
    other_campaign = build_survey_campaign(session, slug="other")
    for path, who in [
        (f"/c/ident/{household.household_group}", signed[:-2] + "xx"),  # forged
        (f"/c/ident/{other_group}", signed),  # another group's questionnaire
        (f"/c/{other_campaign.campaign.slug}/{household.household_group}",
         open_identity.sign_identity(open_identity.Identified(household, "code"),
                                     other_campaign.campaign.slug, secret=secret)),
    ]:
        assert client.get(path, query_string={"who": who}).status_code == 400
        assert client.post(path, data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4()),
                                                who=who)).status_code == 400
    assert session.exec(select(func.count()).select_from(Response)).one() == 0


def test_unverified_answers_are_left_out_unless_included(client, session, campaign):
    from survey_app.services.counted_data import counted_query, unverified_count

    client.get("/c/ident/relocated?unverified=1")
    assert client.post("/c/ident/relocated", data=form_data(
        RELOCATED_ANSWERS, str(uuid.uuid4()))).status_code == 302
    stored = session.exec(select(Response)).one()
    assert stored.household_id is None

    def counted(filters):
        return session.exec(counted_query(campaign, filters, codes=False)).all()

    assert counted(ScoreFilters()) == []
    assert [r.id for r in counted(ScoreFilters(include_unverified=True))] == [stored.id]
    for filters in (ScoreFilters(), ScoreFilters(include_unverified=True)):
        assert unverified_count(campaign, filters, session=session) == 1
    assert unverified_count(campaign, ScoreFilters(mode="paper"), session=session) == 0


def test_a_limited_unverified_submit_keeps_every_answer(make_app, session, campaign):
    app = make_app(RATELIMIT_ENABLED=True, OPEN_LINK_DEVICE_LIMIT="1 per day")
    first, second = app.test_client(), app.test_client()  # two cookie jars, one device
    assert first.post("/c/ident/relocated", data=form_data(
        RELOCATED_ANSWERS, str(uuid.uuid4()))).status_code == 302
    refused = second.post("/c/ident/relocated", data=form_data(
        RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert "您的回答已保留" in page
    assert 'name="a_payment_timeliness" value="5" checked' in page
    assert "希望加快进度" in page
    # Identified answers are bounded by the roster and never refused by the limit.
    check = open_identity.check_code(campaign.id, "HS-0001", KEY)
    form_page = second.get(_identify(second, "ident", household_code="HS-0001",
                                     check_code=check).headers["Location"])
    instance, who = _instance_and_who(form_page.get_data(as_text=True))
    group = _household(session, "HS-0001").household_group
    assert second.post(f"/c/ident/{group}", data=form_data(
        RELOCATED_ANSWERS, instance, who=who)).status_code == 302


def _expired_who(household, slug: str = "ident") -> str:
    """``household``'s identification as signed three days ago (it lasts two)."""
    three_days_ago = int(time.time()) - 3 * 24 * 3600
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: three_days_ago)
        return open_identity.sign_identity(open_identity.Identified(household, "code"), slug,
                                           secret=TEST_SETTINGS["SECRET_KEY"])


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def test_a_submit_after_the_identification_expired_keeps_every_answer_and_asks_again(
        client, session, campaign):
    household = _household(session, "HS-0001")
    group, who = household.household_group, _expired_who(household)
    instance = str(uuid.uuid4())
    late = client.post(f"/c/ident/{group}", data=form_data(RELOCATED_ANSWERS, instance,
                                                           who=who))
    assert late.status_code == 422
    page = late.get_data(as_text=True)
    assert "身份确认已过期" in page and "您的回答已保留" in page
    assert 'name="a_payment_timeliness" value="5" checked' in page and "希望加快进度" in page
    assert 'name="household_code"' in page and 'name="id_tail"' in page
    assert "未核验" not in page  # not said to be an unverified answer: it is not one
    assert _count(session) == 0
    # Pressing the button again without identifying stores nothing either, unverified or not.
    again = client.post(f"/c/ident/{group}", data=form_data(
        RELOCATED_ANSWERS, instance, who=_instance_and_who(page)[1]))
    assert again.status_code == 422 and _count(session) == 0
    # A wrong check code is refused with the answers still kept.
    wrong = client.post(f"/c/ident/{group}", data=form_data(
        RELOCATED_ANSWERS, instance, who=who, household_code="HS-0001", check_code="22222"))
    assert wrong.status_code == 422 and "没有找到" in wrong.get_data(as_text=True)
    assert 'value="22222"' in wrong.get_data(as_text=True) and _count(session) == 0
    # Identified again with the boxes shown beside the answers: stored as that household's.
    check = open_identity.check_code(campaign.id, "HS-0001", KEY)
    done = client.post(f"/c/ident/{group}", data=form_data(
        RELOCATED_ANSWERS, instance, who=who, household_code="HS-0001", check_code=check))
    assert done.status_code == 302 and done.headers["Location"].endswith(instance)
    stored = session.exec(select(Response)).one()
    assert (stored.household_id, stored.comment) == (household.id, "希望加快进度")


def test_an_answer_to_fix_after_identifying_again_carries_a_fresh_identification(
        client, session, campaign):
    household = _household(session, "HS-0002")
    check = open_identity.check_code(campaign.id, "HS-0002", KEY)
    answers = {**RELOCATED_ANSWERS, "household_size": "abc"}
    page = client.post(f"/c/ident/{household.household_group}", data=form_data(
        answers, str(uuid.uuid4()), who=_expired_who(household), household_code="HS-0002",
        check_code=check))
    assert page.status_code == 422 and "请填写整数" in page.get_data(as_text=True)
    who = _instance_and_who(page.get_data(as_text=True))[1]
    assert open_identity.read_identity(who, "ident", secret=TEST_SETTINGS["SECRET_KEY"]) == (
        household.id, "code")
    assert "身份确认已过期" not in page.get_data(as_text=True) and _count(session) == 0


def test_an_expired_identification_in_a_link_opens_the_identification_step(
        client, session, campaign):
    household = _household(session, "HS-0001")
    page = client.get(f"/c/ident/{household.household_group}",
                      query_string={"who": _expired_who(household)})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "身份确认已过期" in text and 'name="check_code"' in text


def test_an_expired_identification_of_another_link_is_still_refused(client, session,
                                                                    campaign):
    household = _household(session, "HS-0001")
    other = build_survey_campaign(session, slug="other")
    who = _expired_who(household, slug=other.campaign.slug)
    check = open_identity.check_code(campaign.id, "HS-0001", KEY)
    reply = client.post(f"/c/ident/{household.household_group}", data=form_data(
        RELOCATED_ANSWERS, str(uuid.uuid4()), who=who, household_code="HS-0001",
        check_code=check))
    assert reply.status_code == 400 and _count(session) == 0
