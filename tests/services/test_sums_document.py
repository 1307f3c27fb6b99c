"""The scores document from the stored sums (issue 23 item 4, "counts, not rows") equals the
document from the counted response rows.

Independent path: ``scores_document(..., rows=True)`` reads every counted response
(counted_data.load_counted) and computes each cell and section from the response matrix with
the R-tested row functions (analysis.campaign_statistics, cronbach_alpha,
construct_validity, derived_importance, item_mode_effects, raked_campaign_statistics); the
default call reads the stored category counts, pair sums and per-campaign sums
(score_sources.open_source → SumsSource) once they are current. The two documents must be
equal field by field after the document's rounding.
"""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import case, update
from sqlmodel import select

from survey_app.models import (
    Campaign,
    CategoryCount,
    CountSnapshot,
    HouseholdGroup,
    Response,
    ResponseMode,
    Role,
)
from survey_app.services import (
    campaigns,
    category_counts,
    demo,
    pair_sums,
    quality_flags,
    scores,
)
from survey_app.services.questionnaire_versions import (
    attach_builtin_questionnaires,
    questionnaire_of,
    version_for_group,
)
from survey_app.services.responses import store_response
from survey_app.services.score_filters import ScoreFilters
from survey_app.services.score_sources import open_source
from survey_app.services.sums_source import SumsSource
from tests.factories import make_campaign, make_user
from tests.perf.test_rollup_cache import _import
from tests.perf.test_score_cache import _respond, _values

WEIGHTINGS = [ScoreFilters(), ScoreFilters(weighting="raked")]


def _assert_same_documents(campaign, filters, session) -> None:
    assert isinstance(open_source(campaign, filters, session=session), SumsSource)
    from_sums = scores.scores_document(campaign, filters, session=session)
    from_rows = scores.scores_document(campaign, filters, session=session, rows=True)
    assert from_sums.model_dump() == from_rows.model_dump()


@pytest.mark.demo_data
@pytest.mark.parametrize("filters", WEIGHTINGS, ids=["design", "raked"])
def test_the_demo_documents_from_the_sums_equal_those_from_the_rows(session, filters):
    """Every demo campaign: several projects and communities, both groups, web, open-link
    and paper answers, unverified open-link answers, comments, a predecessor year."""
    every = session.exec(select(Campaign)).all()
    category_counts.refresh(every, session=session, force=True)
    heshan = campaigns.get_campaign(demo.SLUG, session=session)
    assert scores.scores_document(heshan, session=session).year_over_year is not None
    for campaign in every:
        _assert_same_documents(campaign, filters, session)


def _constructed(session):
    """A campaign whose answers carry 9 (not applicable) and no answer, with unverified
    open-link answers (not counted), a group below MIN_CELL and an excluded response."""
    rng = random.Random(23)
    campaign = make_campaign(session, year=2021)
    attach_builtin_questionnaires(campaign, session=session)
    _import(session, campaign, "A", 40, "rental_subsidy")
    _import(session, campaign, "B", 12, "relocated")
    for group in [HouseholdGroup.RENTAL_SUBSIDY] * 25 + [HouseholdGroup.RELOCATED] * 4:
        _respond(session, campaign, rng, group)
    version = version_for_group(campaign, HouseholdGroup.RENTAL_SUBSIDY, session=session)
    for _ in range(3):
        values = _values(questionnaire_of(version), rng)
        values.update({item.id: "9" for item in questionnaire_of(version).rating_items()[:3]})
        store_response(session=session, campaign=campaign, version=version,
                       group=HouseholdGroup.RENTAL_SUBSIDY, mode=ResponseMode.WEB_OPEN,
                       instance_id=str(uuid.uuid4()), values=values)
    first = session.exec(select(Response.id).where(Response.campaign_id == campaign.id)
                         .order_by(Response.id)).first()
    quality_flags.set_exclusion(first, campaign=campaign, excluded=True, reason="test",
                                actor=make_user(session, Role.ADMIN), session=session)
    session.flush()
    return campaign


@pytest.mark.parametrize("filters", WEIGHTINGS, ids=["design", "raked"])
def test_a_constructed_campaign_from_the_sums_equals_the_rows(app, session, filters):
    campaign = _constructed(session)
    category_counts.refresh([campaign], session=session)
    _assert_same_documents(campaign, filters, session)


def test_the_document_reads_the_rows_until_the_sums_are_current(app, session):
    """Pending changes, other filters: the rows; after the refresh: the sums (a tampered
    stored count then shows in the document, which proves it read them)."""
    campaign = _constructed(session)
    assert open_source(campaign, ScoreFilters(), session=session).__class__ is not SumsSource
    category_counts.refresh([campaign], session=session)
    assert open_source(campaign, ScoreFilters(mode="paper"),
                       session=session).__class__ is not SumsSource
    assert isinstance(open_source(campaign, ScoreFilters(), session=session), SumsSource)
    before = scores.scores_document(campaign, session=session)
    overall = before.overall_item
    # One stored answer 4 of the overall item becomes a 5.
    fours = session.exec(select(CategoryCount).where(
        CategoryCount.campaign_id == campaign.id, CategoryCount.item == overall,
        CategoryCount.code == 4)).all()
    row = next(r for r in fours if session.get(CategoryCount, (
        campaign.id, overall, r.household_group, r.community_id, r.mode, r.project_id, 5)))
    session.execute(update(CategoryCount).where(
        CategoryCount.campaign_id == campaign.id, CategoryCount.item == overall,
        CategoryCount.household_group == row.household_group,
        CategoryCount.community_id == row.community_id, CategoryCount.mode == row.mode,
        CategoryCount.project_id == row.project_id, CategoryCount.code.in_([4, 5]))
        .values(n=CategoryCount.n + case((CategoryCount.code == 5, 1), else_=-1))
        .execution_options(synchronize_session=False))
    tampered = scores.scores_document(campaign, session=session).pooled.items[overall]
    assert tampered.counts.n5 == before.pooled.items[overall].counts.n5 + 1
    assert tampered.rate == before.pooled.items[overall].rate
    assert tampered.index > before.pooled.items[overall].index
    _respond(session, campaign, random.Random(1), HouseholdGroup.RENTAL_SUBSIDY)
    session.flush()
    assert open_source(campaign, ScoreFilters(), session=session).__class__ is not SumsSource
    assert scores.scores_document(campaign, session=session).n_respondents == \
        before.n_respondents + 1


def test_a_refresh_committed_between_the_reads_sends_the_document_to_the_rows(
        app, session, monkeypatch):
    """A refresh replaces the stored snapshot with the sums: one that lands while the
    document reads them (here: while the pair sums are read) is seen, and the rows serve."""
    campaign = _constructed(session)
    category_counts.refresh([campaign], session=session)
    assert isinstance(SumsSource.open(campaign, ScoreFilters(), session=session), SumsSource)
    read, states = pair_sums.stored, iter(range(1, 100))

    def refreshed_meanwhile(campaign_id, *, session):
        session.execute(update(CountSnapshot).where(CountSnapshot.campaign_id == campaign_id)
                        .values(snapshot=f"{next(states):064x}"))
        return read(campaign_id, session=session)

    monkeypatch.setattr(pair_sums, "stored", refreshed_meanwhile)
    assert SumsSource.open(campaign, ScoreFilters(), session=session) is None
    assert scores.scores_document(campaign, session=session).model_dump() == \
        scores.scores_document(campaign, session=session, rows=True).model_dump()
