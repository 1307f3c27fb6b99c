"""A household whose paper form was keyed and verified has its counted response: its letter's
link must not store a second one (attack3 finding: both counted in every score)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from survey_app.models import (
    AccessToken,
    Household,
    Response,
    ResponseStatus,
    Role,
)
from survey_app.services import paper_entry
from survey_app.services.responses import answer_values
from tests.factories import make_user
from tests.public.conftest import RELOCATED_ANSWERS

TYPED = {qid: value for qid, value in RELOCATED_ANSWERS.items()}


def _household_of(session, token: str) -> Household:
    from survey_app.services.personal_data import token_hash

    record = session.exec(select(AccessToken).where(
        AccessToken.token_hash == token_hash(token))).one()
    return session.get(Household, record.household_id)


def _key_paper_form(session, campaign, household) -> Response:
    """Two workers of the household's community key the same paper form: verified."""
    from survey_app.models import Community

    community = session.get(Community, household.community_id)
    first, second = (make_user(session, Role.WORKER, community=community) for _ in range(2))
    for worker in (first, second):
        outcome = paper_entry.enter_paper_form(session=session, campaign=campaign,
                                               household=household, typed=TYPED, worker=worker)
    assert outcome.response is not None  # verified: it counts
    session.flush()
    return outcome.response


def _complete(session, household) -> list[Response]:
    return list(session.exec(select(Response).where(
        Response.household_id == household.id,
        Response.status == ResponseStatus.COMPLETE)).all())


@pytest.mark.parametrize("rule", ["keep_first", "ask_admin"])
def test_letter_link_of_a_household_answered_on_paper_stores_nothing(client, session,
                                                                     survey_campaign, rule):
    campaign = survey_campaign.campaign
    campaign.duplicate_rule = rule
    session.add(campaign)
    token = survey_campaign.token()
    household = _household_of(session, token)
    paper = _key_paper_form(session, campaign, household)

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert 'name="instance_id"' not in page.get_data(as_text=True)  # no questionnaire shown
    assert "提交" not in page.get_data(as_text=True)
    assert [r.id for r in _complete(session, household)] == [paper.id]
    assert answer_values(paper, session=session)["age_band"] == TYPED["age_band"]


def test_under_keep_web_the_letter_link_answer_supersedes_the_paper_form(
        client, session, survey_campaign):
    """「保留网上答卷」: the resident's own web answer is kept even when the paper form was
    keyed first; the paper response is superseded, one response counts."""
    from tests.public.conftest import form_data

    campaign = survey_campaign.campaign
    campaign.duplicate_rule = "keep_web"
    session.add(campaign)
    token = survey_campaign.token()
    household = _household_of(session, token)
    paper = _key_paper_form(session, campaign, household)

    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and 'name="instance_id"' in page.get_data(as_text=True)
    answers = dict(RELOCATED_ANSWERS, overall_satisfaction="2")
    done = client.post(f"/s/{token}", data=form_data(answers, str(uuid.uuid4())))
    assert done.status_code == 302
    session.expire_all()
    counted = _complete(session, household)
    assert len(counted) == 1 and counted[0].mode != "paper"
    assert answer_values(counted[0], session=session)["overall_satisfaction"] == "2"
    assert session.get(Response, paper.id).status == ResponseStatus.SUPERSEDED
    again = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'name="instance_id"' not in again  # the web answer is final: the link is used


def test_a_live_token_of_a_household_answered_on_paper_is_refused_at_submit(
        session, survey_campaign):
    """Defence in depth: even a token left live (issued before this fix, or a race with the
    keying) stores no second response."""
    from survey_app.services import survey_session, survey_submit

    campaign = survey_campaign.campaign
    token = survey_campaign.token()
    household = _household_of(session, token)
    target = survey_session.resolve_token(token, session=session)
    _key_paper_form(session, campaign, household)
    record = session.get(AccessToken, target.access_token.id)
    record.used_at = None  # as a token of before the fix
    session.add(record)
    session.flush()
    check = survey_session.check_answers(target, {k: [v] for k, v in RELOCATED_ANSWERS.items()})
    with pytest.raises(survey_session.AlreadyAnswered):
        survey_submit.submit_response(target, check.values, session=session,
                                      instance_id=str(uuid.uuid4()))
    assert len(_complete(session, household)) == 1


@pytest.mark.parametrize("rule", ["keep_first", "keep_web", "ask_admin"])
def test_an_identified_open_link_answer_never_replaces_a_verified_paper_form(
        session, survey_campaign, rule):
    """The open link's identification step and its submit ask the same question. Only the
    letter's link may supersede a verified paper form under keep_web: an ID number's tail
    and a phone number are weaker than the letter (rev4)."""
    from survey_app.services.open_identity import counted_response_of, web_answer_blocked_by

    campaign = survey_campaign.campaign
    campaign.duplicate_rule = rule
    session.add(campaign)
    household = _household_of(session, survey_campaign.token())
    paper = _key_paper_form(session, campaign, household)
    assert counted_response_of(household, session=session).id == paper.id
    by_letter = web_answer_blocked_by(household, campaign, session=session)
    assert (by_letter.id if by_letter else None) == (None if rule == "keep_web" else paper.id)


def test_a_live_letter_link_of_a_household_verified_on_paper_opens_already_answered(
        client, session, survey_campaign):
    """A household whose paper form was verified while its link stayed live (data of before
    the link was marked used on verifying) sees "already answered" when it opens the link,
    not a questionnaire whose submit would refuse the answers it typed."""
    campaign = survey_campaign.campaign
    token = survey_campaign.token()
    household = _household_of(session, token)
    _key_paper_form(session, campaign, household)
    for record in session.exec(select(AccessToken).where(
            AccessToken.household_id == household.id)).all():
        record.used_at = None  # as before the fix
        session.add(record)
    session.flush()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'name="instance_id"' not in page
    assert "已经参加过本次调查" in page
