"""A bulk quality decision acts on the listing the evaluator saw, not on whatever is flagged
when the form arrives: responses submitted since (an open-link flood going on) are left for
a later decision, and a listing changed otherwise (a response flagged or decided since, or
a page read from a lagging replica) is refused with nothing decided."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app.models import Response, Role
from survey_app.services import campaigns, demo
from tests.factories import login, make_user

QUALITY = f"/evaluate/{demo.SLUG}/quality?flag=open_link_burst"
DECISIONS = f"/evaluate/{demo.SLUG}/quality/decisions"


def _complete(session) -> list[Response]:
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    return list(session.exec(select(Response).where(
        Response.status == "complete", Response.campaign_id == campaign.id)
        .order_by(Response.id)).all())


def _join_burst(session, responses: list[Response], start) -> None:
    """Open-link answers from one phone, a minute apart from ``start``: a burst."""
    for minute, response in enumerate(responses):
        response.mode, response.client_fingerprint = "web_open", "one-phone"
        response.submitted_at = start + timedelta(minutes=minute)
    session.add_all(responses)
    session.flush()


def _shown(client) -> dict[str, str]:
    page = client.get(QUALITY).get_data(as_text=True)
    found = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
             for name in ("through", "listed")}
    return {name: match.group(1) for name, match in found.items() if match}


def _excluded(session) -> set[int]:
    return set(session.exec(select(Response.id).where(Response.excluded)).all())


@pytest.mark.demo_data
def test_responses_submitted_after_the_page_was_shown_are_not_decided(client, session):
    complete = _complete(session)
    start = complete[1].submitted_at
    _join_burst(session, complete[1:21], start)
    login(client, make_user(session, Role.EVALUATOR))
    shown = _shown(client)
    # Another answer of the flood arrives (a higher id) before the evaluator decides.
    _join_burst(session, [complete[-1]], start + timedelta(minutes=20))

    client.post(DECISIONS, data={"flag": "open_link_burst", "reason": "one phone, one hour",
                                 "exclude": "1", **shown})
    assert _excluded(session) == {r.id for r in complete[1:21]}


@pytest.mark.demo_data
def test_a_listing_changed_since_it_was_shown_is_refused(client, session):
    complete = _complete(session)
    start = complete[1].submitted_at
    _join_burst(session, complete[1:21], start)
    login(client, make_user(session, Role.EVALUATOR))
    shown = _shown(client)
    # An older answer is flagged since (as a lagging replica would not have shown it).
    _join_burst(session, [complete[0]], start - timedelta(minutes=1))

    answer = client.post(DECISIONS, data={"flag": "open_link_burst", "exclude": "1",
                                          "reason": "one phone, one hour", **shown})
    assert answer.status_code == 302
    assert _excluded(session) == set()
    assert "列表已变化" in client.get(answer.headers["Location"]).get_data(as_text=True)
