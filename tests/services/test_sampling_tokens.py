"""Sample planning (METHODS.md section 3 reference values), the reproducible draw, and tokens."""

import base64
import hashlib
from math import ceil

import pytest
from sqlmodel import select

from survey_app.models import AccessToken, Household, Response, utcnow
from survey_app.services import questionnaire_versions, sampling, tokens
from survey_app.services.answer_copies import answer_copies
from tests.factories import make_campaign, make_community


def _households(session, campaign, counts):
    community = make_community(session)
    for group, n in counts.items():
        session.add_all(Household(campaign_id=campaign.id, household_code=f"{group[:3]}{i:05d}",
                                  household_group=group, community_id=community.id,
                                  pseudonym=f"P{group[:3]}{i:05d}") for i in range(n))
    session.flush()


def _sampled_codes(session, campaign):
    return sorted(session.exec(select(Household.household_code).where(
        Household.campaign_id == campaign.id, Household.sampled)).all())


def _add_response(session, campaign):
    version = questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    version = questionnaire_versions.version_for_group(campaign, "relocated", session=session)
    session.add(Response(campaign_id=campaign.id, household_group="relocated",
                         questionnaire_version_id=version.id, mode="web_open",
                         instance_id="i-1", submitted_at=utcnow(),
                         **answer_copies({}, questionnaire_versions.questionnaire_of(version))))
    session.flush()


@pytest.mark.slow
def test_sample_sizes_match_methods_reference_values(session):
    # METHODS.md section 3: 95 %, e = 0.05, p = 0.5, n = ceil(n0/(1+(n0-1)/N)):
    # N = 600 -> 235, N = 2500 -> 334; contacts = ceil(n / expected response rate).
    campaign = make_campaign(session, expected_response_rate=0.8)
    _households(session, campaign, {"relocated": 600, "rental_subsidy": 2500})
    plans = {p.group: p for p in sampling.plan_sample(campaign, session=session)}
    assert plans["relocated"].size.n == 235
    assert plans["rental_subsidy"].size.n == 334
    assert plans["relocated"].size.n0 == pytest.approx(384.146, abs=5e-4)
    assert plans["relocated"].contacts == ceil(235 / 0.8) == 294
    assert plans["rental_subsidy"].contacts == ceil(334 / 0.8) == 418
    assert "(n0 - 1)/N" in plans["relocated"].size.formula


def test_contacts_never_exceed_the_population(session):
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 40})
    (plan,) = sampling.plan_sample(campaign, session=session)
    assert plan.contacts == 40
    sampling.draw_sample(campaign, 1, session=session)
    assert len(_sampled_codes(session, campaign)) == 40


@pytest.mark.slow
def test_same_seed_same_sample_different_seed_different_sample(session):
    first = make_campaign(session)
    second = make_campaign(session)
    for campaign in (first, second):
        _households(session, campaign, {"relocated": 300, "rental_subsidy": 500})
    sampling.draw_sample(first, 20211101, session=session)
    sampling.draw_sample(second, 20211101, session=session)
    drawn = _sampled_codes(session, first)
    assert drawn == _sampled_codes(session, second)
    assert len(drawn) == sampling.plan_sample(first, session=session)[0].contacts + \
        sampling.plan_sample(first, session=session)[1].contacts
    sampling.draw_sample(second, 20211102, session=session, redraw=True)
    assert _sampled_codes(session, second) != drawn


def test_draw_is_the_same_on_every_database(session):
    # Sorting happens in Python, not by the database's collation: this digest is identical
    # on SQLite and PostgreSQL (the test runs on both) and across machines.
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 120, "rental_subsidy": 90})
    sampling.draw_sample(campaign, 7, session=session)
    digest = hashlib.sha256("\n".join(_sampled_codes(session, campaign)).encode()).hexdigest()
    from survey_app.models import AuditEvent
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "sample.draw",
                                                  AuditEvent.campaign_id == campaign.id)).one()
    assert event.details["sampled_codes_sha256"] == digest
    assert event.details["seed"] == 7
    assert digest == EXPECTED_DIGEST


# Recorded from the first run; must never change (a changed draw breaks reproducibility).
EXPECTED_DIGEST = "c983ebe3f4f761f76d5943ca95ab31ce7bd2cff9f11a740d716956de21a0eedd"


def test_redraw_needs_confirmation_and_is_refused_once_responses_exist(session):
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 500})
    sampling.draw_sample(campaign, 1, session=session)
    with pytest.raises(sampling.SampleError, match="已经抽过样本"):
        sampling.draw_sample(campaign, 2, session=session)
    _add_response(session, campaign)
    with pytest.raises(sampling.SampleError, match="不能再重新抽样"):
        sampling.draw_sample(campaign, 2, session=session, redraw=True)


@pytest.mark.slow
def test_redraw_revokes_links_of_households_that_left_the_sample(session):
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 800})
    sampling.draw_sample(campaign, 1, session=session)
    issued = {i.household.household_code: i.token
              for i in tokens.issue_tokens(campaign, session=session)}
    sampling.draw_sample(campaign, 2, session=session, redraw=True)
    still = set(_sampled_codes(session, campaign))
    for code, token in issued.items():
        found = tokens.household_for_token(token, session=session)
        assert (found is not None) == (code in still)


def test_tokens_have_at_least_128_random_bits_and_are_stored_only_hashed(session):
    campaign = make_campaign(session)
    _households(session, campaign, {"rental_subsidy": 30})
    sampling.draw_sample(campaign, 3, session=session)
    issued = tokens.issue_tokens(campaign, session=session)
    assert len(issued) == 30 and len({i.token for i in issued}) == 30
    for item in issued:
        raw = base64.urlsafe_b64decode(item.token + "=" * (-len(item.token) % 4))
        assert len(raw) * 8 >= 128
    stored = session.exec(select(AccessToken)).all()
    hashes = {t.token_hash for t in stored}
    for item in issued:
        assert item.token not in hashes
        assert hashlib.sha256(item.token.encode()).hexdigest() in hashes
        household, _ = tokens.household_for_token(item.token, session=session)
        assert household.id == item.household.id


def test_reissue_revokes_the_old_token(session):
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 5})
    sampling.draw_sample(campaign, 3, session=session)
    (first, *_) = tokens.issue_tokens(campaign, session=session)
    with pytest.raises(tokens.TokenError, match="户持有有效链接"):
        tokens.issue_tokens(campaign, session=session)
    assert tokens.issue_tokens(campaign, session=session, only_missing=True) == []
    again = {i.household.id: i.token for i in tokens.issue_tokens(campaign, session=session,
                                                                   reissue=True)}
    assert tokens.household_for_token(first.token, session=session) is None
    assert tokens.household_for_token(again[first.household.id], session=session) is not None
    assert tokens.live_token_count(campaign, session=session) == 5


def test_tokens_need_a_drawn_sample(session):
    campaign = make_campaign(session)
    with pytest.raises(tokens.TokenError, match="尚未抽取样本"):
        tokens.issue_tokens(campaign, session=session)


@pytest.mark.parametrize("mode", ["web_token", "paper"])
def test_reissue_never_reopens_a_household_that_answered(session, mode):
    campaign = make_campaign(session)
    _households(session, campaign, {"relocated": 4})
    sampling.draw_sample(campaign, 4, session=session)
    first = {i.household.id: i for i in tokens.issue_tokens(campaign, session=session)}
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    version = questionnaire_versions.version_for_group(campaign, "relocated", session=session)
    copies = answer_copies({}, questionnaire_versions.questionnaire_of(version))
    answered, draft_only = list(first.values())[:2]
    session.add(Response(campaign_id=campaign.id, household_id=answered.household.id,
                         household_group="relocated", questionnaire_version_id=version.id,
                         mode=mode, instance_id="i-answered", submitted_at=utcnow(), **copies))
    session.add(Response(campaign_id=campaign.id, household_id=draft_only.household.id,
                         household_group="relocated", questionnaire_version_id=version.id,
                         mode="web_token", status="partial", instance_id="i-draft", **copies))
    session.flush()

    again = {i.household.id for i in tokens.issue_tokens(campaign, session=session,
                                                         reissue=True)}

    assert answered.household.id not in again
    assert draft_only.household.id in again  # a draft is not an answer
    assert len(again) == 3
    # The answered household's letter still leads to its "already answered" page.
    household, _ = tokens.household_for_token(answered.token, session=session)
    assert household.id == answered.household.id
    assert tokens.answered_household_ids(campaign, session=session) == {answered.household.id}
    assert tokens.issue_tokens(campaign, session=session, only_missing=True) == []
