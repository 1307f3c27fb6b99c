"""The scores cache: a hit returns the identical (frozen) document; any change to the counted
data (new, edited, excluded, restored or deleted response) is seen at once. Behaviour only —
the timings are in benchmarks/bench_scores.py."""

import random
import uuid

import pytest
from pydantic import ValidationError

from questionnaires import validate_answers
from survey_app.extensions import db
from survey_app.models import HouseholdGroup, ResponseMode, Role
from survey_app.services import api_tokens, quality_flags, response_edits, score_cache, scores
from survey_app.services.paper_entry import display_value
from survey_app.services.questionnaire_versions import (
    attach_builtin_questionnaires,
    questionnaire_of,
    version_for_group,
)
from survey_app.services.responses import answer_values, store_response
from survey_app.services.score_filters import ScoreFilters
from survey_app.services.scores_model import IndicatorDocument
from tests.factories import make_campaign, make_user


def _values(questionnaire, rng: random.Random) -> dict:
    raw = {}
    for q in questionnaire.questions():
        if q.type == "rating":
            raw[q.id] = rng.choice("5554439")
        elif q.type == "single":
            raw[q.id] = "2" if q.id == "has_complained" else q.options[0].code
        elif q.type == "multiple":
            raw[q.id] = [q.options[0].code]
        elif q.type == "integer":
            raw[q.id] = str(q.min or 1)
        elif q.type == "text":
            raw[q.id] = rng.choice(["补贴按时发放", "", "希望改善物业"])
    check = validate_answers(questionnaire, raw)
    assert check.ok, check.errors
    return check.values


def _respond(session, campaign, rng, group=HouseholdGroup.RENTAL_SUBSIDY):
    version = version_for_group(campaign, group, session=session)
    response, _ = store_response(
        session=session, campaign=campaign, version=version, group=group,
        # Web answers of no particular household: counted ones need a mode that is not an
        # unverified open-link answer (which the scores leave out by default).
        mode=ResponseMode.WEB_TOKEN, instance_id=str(uuid.uuid4()),
        values=_values(questionnaire_of(version), rng))
    return response


@pytest.fixture
def cached_app(make_app):
    # Settle window 0: the test's fresh data may be cached at once.
    return make_app(SCORE_CACHE_SETTLE_SECONDS=0)


@pytest.fixture
def campaign_data(cached_app):
    with cached_app.app_context():
        session = db.session
        campaign = make_campaign(session)
        attach_builtin_questionnaires(campaign, session=session)
        rng = random.Random(7)
        responses = [_respond(session, campaign, rng, group)
                     for group in [HouseholdGroup.RENTAL_SUBSIDY] * 8
                     + [HouseholdGroup.RELOCATED] * 6]
        admin = make_user(session, Role.ADMIN)
        token = api_tokens.create_api_token(admin, session=session)
        session.flush()
        yield {"session": session, "campaign": campaign, "responses": responses,
               "admin": admin, "token": token, "rng": rng}


def _cache():
    return score_cache.cache_of_app()


def test_hit_returns_the_identical_document(campaign_data):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    fresh = scores.scores_document(campaign, session=session)
    first = score_cache.cached_scores_document(campaign, session=session)
    hits = _cache().hits
    second = score_cache.cached_scores_document(campaign, session=session)
    assert _cache().hits == hits + 1
    assert first == fresh
    assert second is first  # no copy: the frozen document is shared
    # No caller can change what the next caller gets.
    with pytest.raises(ValidationError):
        second.pooled.respondents = -1
    assert score_cache.cached_scores_document(campaign, session=session) == fresh


def test_filters_are_part_of_the_key(campaign_data):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    filters = ScoreFilters(group=HouseholdGroup.RELOCATED)
    score_cache.cached_scores_document(campaign, session=session)
    grouped = score_cache.cached_scores_document(campaign, filters, session=session)
    assert grouped == scores.scores_document(campaign, filters, session=session)
    assert grouped.n_respondents == 6


@pytest.mark.demo_data
def test_indicator_document_is_the_full_documents_indicator(session):
    from survey_app.services import campaigns, demo

    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    community = scores.scores_document(campaign, session=session).communities[0].code
    for filters in (ScoreFilters(), ScoreFilters(include_excluded=True),
                    ScoreFilters(group=HouseholdGroup.RELOCATED, mode="paper"),
                    ScoreFilters(community=community, mode="web_open")):
        full = scores.scores_document(campaign, filters, session=session)
        assert scores.indicator_document(campaign, filters, session=session) == \
            IndicatorDocument(n_respondents=full.n_respondents,
                              indicator=full.indicator), filters


def test_cached_indicator_document_comes_from_the_cached_full_document(campaign_data):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    full = score_cache.cached_scores_document(campaign, session=session)
    assert full.indicator is not None
    hits = _cache().hits
    alone = score_cache.cached_indicator_document(campaign, session=session)
    assert _cache().hits == hits + 1  # read from the full document's entry
    assert alone == IndicatorDocument(n_respondents=full.n_respondents, indicator=full.indicator)
    assert alone.indicator is full.indicator
    filters = ScoreFilters(include_excluded=True)
    assert score_cache.cached_indicator_document(campaign, filters, session=session) == \
        scores.indicator_document(campaign, filters, session=session)


def _new(data):
    _respond(data["session"], data["campaign"], data["rng"])


def _edit(data):
    # Every answer as stored except the overall item, which becomes 1 (非常不满意).
    response = data["responses"][0]
    overall = scores.scores_document(data["campaign"], session=data["session"]).overall_item
    typed = {qid: display_value(value)
             for qid, value in answer_values(response, session=data["session"]).items()}
    assert typed[overall] != "1"
    response_edits.edit_response(session=data["session"], response=response,
                                 typed=typed | {overall: "1"}, reason="typing error",
                                 actor=data["admin"])


def _exclude(data):
    quality_flags.set_exclusion(data["responses"][1].id, campaign=data["campaign"],
                                excluded=True, reason="speeder", actor=data["admin"],
                                session=data["session"])


def _delete(data):
    response_edits.delete_response(session=data["session"], response=data["responses"][2],
                                   reason="duplicate", actor=data["admin"])


@pytest.mark.parametrize("change", [_new, _edit, _exclude, _delete],
                         ids=["new", "edited", "excluded", "deleted"])
def test_any_change_to_the_responses_invalidates(campaign_data, change):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    before = score_cache.cached_scores_document(campaign, session=session)
    assert score_cache.cached_scores_document(campaign, session=session) == before
    change(campaign_data)
    session.flush()
    after = score_cache.cached_scores_document(campaign, session=session)
    assert after == scores.scores_document(campaign, session=session)
    assert after != before
    assert after.snapshot != before.snapshot


def test_restoring_an_excluded_response_invalidates(campaign_data):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    _exclude(campaign_data)
    excluded = score_cache.cached_scores_document(campaign, session=session)
    quality_flags.set_exclusion(campaign_data["responses"][1].id, campaign=campaign,
                                excluded=False, reason="checked", actor=campaign_data["admin"],
                                session=session)
    restored = score_cache.cached_scores_document(campaign, session=session)
    assert restored.n_respondents == excluded.n_respondents + 1
    assert restored == scores.scores_document(campaign, session=session)


def test_indicator_settings_change_invalidates(campaign_data):
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    before = score_cache.cached_scores_document(campaign, session=session)
    campaign.indicator_target = 0.5
    session.add(campaign)
    session.flush()
    after = score_cache.cached_scores_document(campaign, session=session)
    assert after.indicator.target == 0.5 != before.indicator.target


def test_recent_changes_are_not_cached_inside_the_settle_window(campaign_data):
    # With the default window, a document over data changed seconds ago is computed but not
    # stored: an older edit still committing could otherwise hide behind max(updated_at).
    session, campaign = campaign_data["session"], campaign_data["campaign"]
    from flask import current_app

    current_app.config["SCORE_CACHE_SETTLE_SECONDS"] = 120
    _cache().clear()
    doc = score_cache.cached_scores_document(campaign, session=session)
    assert doc == scores.scores_document(campaign, session=session)
    assert len(_cache()) == 0


def test_api_serves_the_cached_document_and_sees_a_new_response(cached_app, campaign_data):
    campaign = campaign_data["campaign"]
    client = cached_app.test_client()
    headers = {"Authorization": f"Bearer {campaign_data['token']}"}
    url = f"/api/v1/campaigns/{campaign.slug}/scores"
    first = client.get(url, headers=headers)
    second = client.get(url, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert first.get_json()["n_respondents"] == 14
    with cached_app.app_context():
        _respond(db.session, campaign, random.Random(3))
        db.session.commit()  # only releases the test's savepoint
    third = client.get(url, headers=headers).get_json()
    assert third["n_respondents"] == 15


def test_no_stale_document_across_campaigns(campaign_data):
    session = campaign_data["session"]
    other = make_campaign(session)
    attach_builtin_questionnaires(other, session=session)
    rng = random.Random(11)
    for _ in range(6):
        _respond(session, other, rng)
    a = score_cache.cached_scores_document(campaign_data["campaign"], session=session)
    b = score_cache.cached_scores_document(other, session=session)
    assert a.campaign.slug != b.campaign.slug
    assert b.n_respondents == 6


def test_a_change_to_the_predecessor_is_seen_by_the_follower(campaign_data):
    """Year over year: the follower's document reads its predecessor's responses, so the
    predecessor's data version is part of the follower's key."""
    from survey_app.services import campaign_years

    session, before = campaign_data["session"], campaign_data["campaign"]
    after = make_campaign(session, year=2022)
    attach_builtin_questionnaires(after, session=session)
    for group in [HouseholdGroup.RENTAL_SUBSIDY] * 6 + [HouseholdGroup.RELOCATED] * 5:
        _respond(session, after, campaign_data["rng"], group)
    campaign_years.set_previous(after, before, session=session)
    first = score_cache.cached_scores_document(after, session=session)
    assert first.year_over_year.previous_respondents == 14
    assert score_cache.cached_scores_document(after, session=session) is first
    _respond(session, before, campaign_data["rng"])
    second = score_cache.cached_scores_document(after, session=session)
    assert second.year_over_year.previous_respondents == 15
    assert second == scores.scores_document(after, session=session)
    campaign_years.set_previous(after, None, session=session)
    assert score_cache.cached_scores_document(after, session=session).year_over_year is None
