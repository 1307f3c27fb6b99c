"""Token and open links: which questionnaire opens, and friendly pages for unusable links."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from survey_app.models import CampaignStatus, Household, Response
from survey_app.services import tokens
from survey_app.services.survey_session import LOCAL_ZONE
from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data


def _statements(session, client, path):
    """The response to GET path and the number of SQL statements it ran."""
    engine = session.connection().engine
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response, len(seen)


@pytest.mark.parametrize("group, title", [
    ("relocated", "城镇棚户区改造货币化安置户满意度调查问卷"),
    ("rental_subsidy", "租赁补贴"),
])
def test_token_opens_the_questionnaire_of_the_households_group(client, survey_campaign, group,
                                                                 title):
    page = client.get(f"/s/{survey_campaign.token(group)}").get_data(as_text=True)
    assert title in page
    assert "共 15 题；根据前面的回答，部分住户另有 1 题。" in page
    assert 'name="instance_id"' in page
    # Every rating item offers the five scale points and 不清楚.
    assert page.count('name="a_overall_satisfaction"') == 6
    assert "非常不满意" in page and "不清楚" in page


def test_unknown_token_and_closed_campaign_are_indistinguishable(client, session,
                                                                 survey_campaign):
    unknown, unknown_queries = _statements(session, client, "/s/" + "x" * 27)
    survey_campaign.campaign.status = CampaignStatus.CLOSED
    session.add(survey_campaign.campaign)
    session.flush()
    closed, closed_queries = _statements(session, client, f"/s/{survey_campaign.token()}")
    assert unknown.status_code == closed.status_code == 404
    assert unknown.get_data() == closed.get_data()
    assert "此链接无效，或本次调查已经结束" in closed.get_data(as_text=True)
    # Same database work for both, so response time does not tell them apart either.
    assert unknown_queries == closed_queries


def test_unknown_slug_closed_campaign_and_unknown_group_look_the_same(client, session):
    closed = build_survey_campaign(session, status=CampaignStatus.CLOSED)
    pages = [client.get(path) for path in (
        "/c/no-such-campaign", f"/c/{closed.campaign.slug}",
        f"/c/{closed.campaign.slug}/relocated", "/c/no-such-campaign/relocated")]
    assert {p.status_code for p in pages} == {404}
    assert len({p.get_data() for p in pages}) == 1


@pytest.mark.parametrize("opens, closes", [
    (timedelta(days=1), None),  # not open yet
    (None, timedelta(days=-1)),  # ended yesterday
])
def test_campaign_outside_its_dates_is_unavailable(client, session, survey_campaign, opens,
                                                   closes):
    today = datetime.now(LOCAL_ZONE).date()
    campaign = survey_campaign.campaign
    campaign.opens_on = today + opens if opens else None
    campaign.closes_on = today + closes if closes else None
    session.add(campaign)
    session.flush()
    assert client.get(f"/s/{survey_campaign.token()}").status_code == 404


def test_revoked_token_gets_its_own_friendly_page(client, session, survey_campaign):
    old = survey_campaign.token()
    household = session.exec(select(Household).where(Household.household_code == "H001")).one()
    tokens.issue_token(household, session=session)  # revokes the household's live tokens
    page = client.get(f"/s/{old}")
    assert page.status_code == 410
    assert "此链接已更换" in page.get_data(as_text=True)


def test_used_token_shows_already_answered_with_the_receipt(client, session, survey_campaign):
    token = survey_campaign.token()
    done = client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert done.status_code == 302
    again = client.get(f"/s/{token}")
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert "您已完成本问卷" in page
    receipt = session.exec(select(Response.receipt_code)).one()
    assert receipt in page


def test_open_link_asks_for_the_household_then_stores_an_unverified_answer_if_skipped(
        client, session, survey_campaign):
    slug = survey_campaign.campaign.slug
    identify = client.get(f"/c/{slug}").get_data(as_text=True)
    assert "户号" in identify and "身份证号后6位" in identify
    assert f'href="/c/{slug}/answer"' in identify  # answering without identifying
    # A group's own link (a poster may print it) asks too, and skips to that group.
    assert f'href="/c/{slug}/relocated?unverified=1"' in client.get(
        f"/c/{slug}/relocated").get_data(as_text=True)
    choose = client.get(f"/c/{slug}/answer").get_data(as_text=True)
    assert "棚改货币化安置户" in choose and "租赁补贴户" in choose
    assert f'href="/c/{slug}/rental_subsidy?unverified=1"' in choose
    form = client.get(f"/c/{slug}/relocated?unverified=1")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and "暂存" not in page and "未核验" in page
    instance = str(uuid.uuid4())
    done = client.post(f"/c/{slug}/relocated", data=form_data(RELOCATED_ANSWERS, instance))
    assert done.status_code == 302
    assert done.headers["Location"] == f"/c/{slug}/relocated/receipt/{instance}"
    stored = session.exec(select(Response)).one()
    assert (stored.mode, stored.household_id, stored.household_group) == (
        "web_open", None, "relocated")
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    assert stored.receipt_code in receipt


def test_token_guessing_is_rate_limited(make_app, survey_campaign):
    app = make_app(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="3 per day")
    client = app.test_client()
    valid = survey_campaign.token()
    # Loading a valid link costs nothing: many page loads from one address are fine.
    assert {client.get(f"/s/{valid}").status_code for _ in range(5)} == {200}
    codes = [client.get(f"/s/guess{i}").status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]
    # Failed lookups of every token page share the budget, the receipt page included ...
    assert client.get(f"/s/{valid}/receipt/x").status_code == 429
    # ... but the guesses never lock a household out of its own link (a shared NAT).
    page = client.get(f"/s/{valid}")
    assert page.status_code == 200
    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"',
                         page.get_data(as_text=True)).group(1)
    done = client.post(f"/s/{valid}", data=form_data(RELOCATED_ANSWERS, instance))
    assert done.status_code == 302 and "/receipt/" in done.headers["Location"]


def test_english_uses_the_questionnaires_own_translation(client, survey_campaign):
    page = client.get(f"/s/{survey_campaign.token()}?lang=en").get_data(as_text=True)
    assert "Satisfaction survey of households resettled with cash compensation" in page
    assert "Very satisfied" in page and "Don&#39;t know" in page
    assert "15 questions; 1 more only for some households" in page
    assert "非常满意" not in page


def test_intro_counts_the_questions_as_the_progress_line_does(client, survey_campaign):
    """The progress line counts the questions shown (a follow-up only after certain
    answers); the intro counts the same way and names the follow-up apart (ux4)."""
    page = client.get(f"/s/{survey_campaign.token()}").get_data(as_text=True)
    blocks = re.findall(r'<div class="q[^"]*" id="q-[^"]+"([^>]*)>', page)
    always = sum("data-show-if" not in attrs for attrs in blocks)
    extra = len(blocks) - always
    assert (always, extra) == (15, 1)
    intro = re.search(r'<p class="hint" id="question-count">([^<]+)</p>', page).group(1)
    assert intro == f"共 {always} 题；根据前面的回答，部分住户另有 {extra} 题。"
    assert "共 16 题" not in page


def test_large_text_switch_works_without_script(client, survey_campaign):
    token = survey_campaign.token()
    assert "large-text" not in client.get(f"/s/{token}").get_data(as_text=True)
    assert 'class="resident large-text"' in client.get(
        f"/s/{token}?text=large").get_data(as_text=True)
    # The button inside the form keeps what was already answered.
    page = client.post(f"/s/{token}", data={
        "instance_id": str(uuid.uuid4()), "normal_text": "标准字号", "a_age_band": "3",
    }).get_data(as_text=True)
    assert 'class="resident"' in page
    assert 'name="a_age_band" value="3" checked' in page


def test_one_device_one_open_link_submission(client, session, survey_campaign):
    slug = survey_campaign.campaign.slug
    client.get(f"/c/{slug}/relocated?unverified=1")
    first = str(uuid.uuid4())
    done = client.post(f"/c/{slug}/relocated", data=form_data(RELOCATED_ANSWERS, first))
    receipt = f"/c/{slug}/relocated/receipt/{first}"
    assert done.headers["Location"] == receipt
    # The same submission again (a double tap) is its idempotent repeat.
    repeat = client.post(f"/c/{slug}/relocated", data=form_data(RELOCATED_ANSWERS, first))
    assert repeat.headers["Location"] == receipt
    # Back or a refresh shows the receipt, never a fresh form; a fresh form posted anyway
    # (another group included) stores nothing.
    for again in (client.get(f"/c/{slug}/answer"),
                  client.get(f"/c/{slug}/relocated?unverified=1"),
                  client.get(f"/c/{slug}/rental_subsidy?unverified=1"),
                  client.post(f"/c/{slug}/relocated",
                              data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))):
        assert (again.status_code, again.headers["Location"]) == (302, receipt)
    page = client.get(receipt).get_data(as_text=True)
    assert "已经提交过" in page
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
    # Another phone still answers the open link.
    other = client.application.test_client()
    other.get(f"/c/{slug}/relocated?unverified=1")
    second = str(uuid.uuid4())
    assert other.post(f"/c/{slug}/relocated", data=form_data(
        RELOCATED_ANSWERS, second)).headers["Location"].endswith(second)
    assert session.exec(select(func.count()).select_from(Response)).one() == 2


def test_a_forged_answered_cookie_is_ignored(client, survey_campaign):
    slug = survey_campaign.campaign.slug
    client.set_cookie("answered", f"{slug}:relocated:{uuid.uuid4()}.forged",
                      path=f"/c/{slug}")
    page = client.get(f"/c/{slug}/relocated?unverified=1")
    assert page.status_code == 200 and 'name="instance_id"' in page.get_data(as_text=True)
