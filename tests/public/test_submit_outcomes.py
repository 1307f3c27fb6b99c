"""survey_submit.submit_survey: what became of a submit, as the outcome the view renders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from questionnaires import Questionnaire
from survey_app.extensions import db
from survey_app.models import CampaignStatus, Response
from survey_app.public import OPEN_LINKS
from survey_app.services import survey_submit
from survey_app.services.survey_session import OpenLink, SurveyUnavailable, TokenLink
from tests.public.conftest import RELOCATED_ANSWERS


@dataclass(frozen=True)
class Post:
    """A submit post: the instance id and the answers by question id."""

    instance_id: str
    posted: dict
    started_at: datetime | None = None

    def answers(self, questionnaire: Questionnaire) -> dict[str, list[str]]:
        return {q.id: [self.posted[q.id]] if q.id in self.posted else []
                for q in questionnaire.questions()}


def _post(**changes) -> Post:
    return Post(str(uuid.uuid4()), {**RELOCATED_ANSWERS, **changes})


def _submit(link, post: Post, *, target=None):
    target = target or link.resolve(session=db.session)
    return survey_submit.submit_survey(link, target, post, database=db, locale="zh",
                                       fingerprint=None)


def _stored(session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def _used_target(link, session):
    """A used token's target, as the view takes it for a (retried) submit."""
    with pytest.raises(SurveyUnavailable) as refused:
        link.resolve(session=session)
    assert refused.value.reason == "used"
    return refused.value.target


def test_a_submit_is_stored_and_its_repeat_returns_the_stored_response(
        app, session, survey_campaign):
    link = TokenLink(survey_campaign.token())
    post = _post()
    first = _submit(link, post)
    assert isinstance(first, survey_submit.Stored) and first.created
    again = _submit(link, post, target=_used_target(link, session))
    assert isinstance(again, survey_submit.Stored) and not again.created
    assert again.response.id == first.response.id
    assert _stored(session) == 1


def test_the_same_instance_with_other_answers_is_a_conflict(app, session, survey_campaign):
    link = OpenLink(survey_campaign.campaign.slug, "relocated")
    post = _post()
    assert isinstance(_submit(link, post), survey_submit.Stored)
    other = Post(post.instance_id, {**post.posted, "overall_satisfaction": "1"})
    assert _submit(link, other) == survey_submit.Conflict(post.instance_id)
    assert _stored(session) == 1


def test_invalid_answers_come_back_with_their_errors(app, session, survey_campaign):
    link = OpenLink(survey_campaign.campaign.slug, "relocated")
    outcome = _submit(link, _post(household_size="35"))
    assert isinstance(outcome, survey_submit.Invalid)
    assert outcome.errors == {"household_size": "out_of_range"}
    assert outcome.answers["household_size"] == ["35"]
    assert _stored(session) == 0


def test_a_used_token_refuses_a_new_instance(app, session, survey_campaign):
    link = TokenLink(survey_campaign.token())
    assert isinstance(_submit(link, _post()), survey_submit.Stored)
    outcome = _submit(link, _post(), target=_used_target(link, session))
    assert isinstance(outcome, survey_submit.Refused)
    assert outcome.refusal.reason == "used"
    assert _stored(session) == 1


def test_a_remembered_link_of_a_closed_campaign_is_read_again_once_then_refused(
        app, session, survey_campaign):
    # The remembered target is out of date: the write refuses it, the retry reads the link
    # from the database (closed: unavailable) and forgets it.
    campaign = survey_campaign.campaign
    links = app.extensions[OPEN_LINKS]
    link = OpenLink(campaign.slug, "relocated", links)
    link.resolve(session=session)
    remembered = link.resolve(session=session, reuse=True)
    assert remembered.remembered
    campaign.status = CampaignStatus.CLOSED
    session.add(campaign)
    session.flush()
    outcome = _submit(link, _post(), target=remembered)
    assert isinstance(outcome, survey_submit.Refused)
    assert outcome.refusal.reason == "unavailable"
    assert links.recall(campaign.slug, "relocated") is None
    assert _stored(session) == 0
