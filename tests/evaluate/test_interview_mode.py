"""Interviews taken on a worker's phone are their own mode in the scores (issue 22): a mode
filter of their own, and a web-vs-interview comparison beside web-vs-paper, each leaving
the third mode out."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import Response, ResponseMode, ResponseStatus
from survey_app.services import campaigns, demo
from survey_app.services.score_filters import ScoreFilters
from survey_app.services.scores import scores_document


@pytest.mark.demo_data
def test_interviews_are_compared_with_web_and_filtered_on_their_own(session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    web = session.exec(select(Response).where(
        Response.campaign_id == campaign.id, Response.mode == ResponseMode.WEB_TOKEN,
        Response.status == ResponseStatus.COMPLETE, Response.excluded == False)  # noqa: E712
        .order_by(Response.id)).all()
    before = scores_document(campaign, session=session)
    paper_rows = {(m.item, m.group): m for m in before.mode_effects}
    moved = web[:60]
    for response in moved:
        response.mode = ResponseMode.INTERVIEW
        session.add(response)
    session.flush()

    doc = scores_document(campaign, session=session)
    interview = [m for m in doc.mode_effects if m.mode == "interview"]
    paper = [m for m in doc.mode_effects if m.mode == "paper"]
    assert interview and len(paper) == len(paper_rows)
    moved_by_group: dict[str, int] = {}
    for response in moved:
        moved_by_group[response.household_group] = (
            moved_by_group.get(response.household_group, 0) + 1)
    for m in paper:  # the web side lost the moved responses, the paper side kept its own
        old = paper_rows[(m.item, m.group)]
        assert m.n_paper == old.n_paper and m.n_web <= old.n_web
    overall = [m for m in interview if m.item == "overall_satisfaction"]
    assert sum(m.n_paper for m in overall) <= len(moved)
    assert sum(m.n_paper for m in overall) > 0

    only = scores_document(campaign, ScoreFilters(mode="interview"), session=session)
    assert only.n_respondents == len(moved)
