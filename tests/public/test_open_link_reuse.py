"""A survey post through an open link reuses what the link resolved to (OpenLinks) instead
of querying it; the response insert checks the same facts again, so a campaign closed or a
questionnaire changed meanwhile is never missed."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlmodel import select

from survey_app.models import CampaignStatus, HouseholdGroup, Response
from survey_app.public import OPEN_LINKS
from survey_app.services import survey_session
from survey_app.services.questionnaire_versions import (
    attach_questionnaire,
    register_questionnaire,
    version_for_group,
)
from tests.public.conftest import RELOCATED_ANSWERS, form_data, relocated_variant


@contextmanager
def _statements(app):
    """The SQL the app runs (tests bind every session to one connection)."""
    connection = app.extensions["survey_db"].bind_override
    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", listener)


def _link_queries(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.startswith("SELECT") and "FROM campaign " in sql]


def _stored(session) -> list[Response]:
    return session.exec(select(Response)).all()


@pytest.fixture
def opened(app, client, session, survey_campaign):
    """The relocated form of the open link, fetched (so the link is remembered).

    The test's changes are committed before each post (the test's transaction still rolls
    back at the end): the test shares the post's session, whose refusal rolls back.
    """
    session.commit()
    slug = survey_campaign.campaign.slug
    assert client.get(f"/c/{slug}/relocated?unverified=1").status_code == 200
    return f"/c/{slug}/relocated"


def test_a_post_after_its_form_runs_no_link_query(app, client, session, survey_campaign, opened):
    with _statements(app) as seen:
        reply = client.post(opened, data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    assert _link_queries(seen) == []
    [response] = _stored(session)
    version = version_for_group(survey_campaign.campaign, HouseholdGroup.RELOCATED,
                                session=session)
    assert response.questionnaire_version_id == version.id
    # The insert checked the campaign and the questionnaire itself.
    [insert] = [sql for sql in seen if "INSERT INTO response" in sql]
    assert "campaignquestionnaire" in insert and "questionnaireversion.content_hash" in insert


def test_without_reuse_every_post_queries_its_link(make_app, session, survey_campaign):
    app = make_app(OPEN_LINK_CACHE_SECONDS=0)
    client = app.test_client()
    path = f"/c/{survey_campaign.campaign.slug}/relocated?unverified=1"
    assert client.get(path).status_code == 200
    with _statements(app) as seen:
        reply = client.post(path, data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 302
    assert len(_link_queries(seen)) == 1


@pytest.mark.parametrize("field, value", [("status", CampaignStatus.CLOSED),
                                          ("closes_on", "2021-01-01")])
def test_a_campaign_closed_after_the_form_was_fetched_refuses_the_post(
        app, client, session, survey_campaign, opened, field, value):
    campaign = survey_campaign.campaign
    setattr(campaign, field, value if field == "status" else date.fromisoformat(value))
    session.add(campaign)
    session.commit()
    with _statements(app) as seen:
        reply = client.post(opened, data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert reply.status_code == 404  # the page of closed and unknown links
    assert _stored(session) == []
    # The remembered link went to the insert, which refused it; then the link was read.
    inserts = [i for i, sql in enumerate(seen) if "INSERT INTO response" in sql]
    queries = [i for i, sql in enumerate(seen) if sql in _link_queries(seen)]
    assert len(inserts) == 1 and len(queries) == 1 and inserts[0] < queries[0]


def test_a_questionnaire_changed_after_the_form_was_fetched_checks_the_answers_again(
        client, session, survey_campaign, opened):
    # The group has no responses yet, so its questionnaire may still be replaced.
    stricter = register_questionnaire(
        relocated_variant(household_size={"max": 2}), session=session)
    attach_questionnaire(survey_campaign.campaign, HouseholdGroup.RELOCATED, stricter,
                         session=session)
    session.commit()
    answers = form_data(RELOCATED_ANSWERS, str(uuid.uuid4()))  # household_size 3
    refused = client.post(opened, data=answers)
    assert refused.status_code == 422  # validated against the new questionnaire
    page = refused.get_data(as_text=True)
    # The message gives the range of the questionnaire now in force.
    assert 'id="q-household_size"' in page and "请填写 1 到 2 之间的整数。" in page
    assert 'name="a_comments"' in page and ">希望加快进度</textarea>" in page  # answers kept
    assert _stored(session) == []
    answers["a_household_size"] = "2"
    assert client.post(opened, data=answers).status_code == 302
    [response] = _stored(session)
    assert response.questionnaire_version_id == stricter.id


def test_remembered_links_are_fresh_copies_that_expire(session, survey_campaign):
    now = [100.0]
    links = survey_session.OpenLinks(ttl_seconds=60, clock=lambda: now[0])
    slug = survey_campaign.campaign.slug
    target = survey_session.resolve_open_link(slug, "relocated", session=session, links=links)
    assert not target.remembered
    first = links.recall(slug, "relocated")
    second = links.recall(slug, "relocated")
    assert first.remembered and first.campaign is not second.campaign
    assert first.campaign.id == target.campaign.id and first.version.id == target.version.id
    assert first.campaign.slug == slug and first.questionnaire is target.questionnaire
    with pytest.raises(DetachedInstanceError):  # JSON values are not shared between copies
        _ = first.campaign.indicator_rule_params
    assert links.recall(slug, "rental_subsidy") is None
    now[0] += 59.9
    assert links.recall(slug, "relocated") is not None
    now[0] += 0.1
    assert links.recall(slug, "relocated") is None


def test_remembering_is_bounded_and_can_be_switched_off(session, survey_campaign):
    slug = survey_campaign.campaign.slug
    target = survey_session.resolve_open_link(slug, "relocated", session=session)
    off = survey_session.OpenLinks(ttl_seconds=0)
    off.remember(slug, target)
    assert off.recall(slug, "relocated") is None
    small = survey_session.OpenLinks(max_entries=2)
    for name in ("a", "b", slug):  # the third entry pushes out the least recently used
        small.remember(name, target)
    assert [small.recall(name, "relocated") is not None for name in ("a", "b", slug)] == [
        False, True, True]


def test_a_link_found_unavailable_is_forgotten(app, session, survey_campaign):
    links = app.extensions[OPEN_LINKS]
    campaign = survey_campaign.campaign
    survey_session.resolve_open_link(campaign.slug, "relocated", session=session, links=links)
    campaign.status = CampaignStatus.CLOSED
    session.add(campaign)
    session.flush()
    with pytest.raises(survey_session.SurveyUnavailable):
        survey_session.resolve_open_link(campaign.slug, "relocated", session=session,
                                         links=links)
    assert links.recall(campaign.slug, "relocated") is None
