"""A back-check call form sent twice (a double Enter) or from a page older than another
evaluator's call is refused, not counted as a second call: three unanswered calls make a
household unreachable, and a top-up then replaces it."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, BackcheckCase
from survey_app.services import backchecks
from tests.evaluate.backcheck_field import build_backcheck_field
from tests.factories import login

NO_ANSWER = "2"  # the typed number of "no answer" (backcheck_forms.outcome_numbers)


@pytest.fixture
def bc(session):
    return build_backcheck_field(session, seal_contacts=True)


def _first_case(session, draw) -> BackcheckCase:
    return session.exec(select(BackcheckCase).where(BackcheckCase.draw_id == draw.id)
                        .order_by(BackcheckCase.id)).first()


def test_the_same_call_form_sent_twice_counts_one_call(app, client, session, bc):
    assert backchecks.OUTCOMES[int(NO_ANSWER) - 1] == "no_answer"
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    case = _first_case(session, draw)
    login(client, bc.evaluator)
    url = f"/evaluate/{bc.campaign.slug}/backchecks/{case.household_id}"
    page = client.get(url).get_data(as_text=True)
    shown = re.search(r'name="attempt" type="hidden" value="(\d*)"', page)
    form = {"outcome": NO_ANSWER, **({"attempt": shown.group(1)} if shown else {})}

    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form)
    assert again.status_code == 400
    assert "本次通话未保存" in again.get_data(as_text=True)
    # The refusal shows the calls recorded now: sending it once more is a call of its own.
    assert 'name="attempt" type="hidden" value="1"' in again.get_data(as_text=True)
    session.refresh(case)
    assert case.attempts == 1
    assert len(session.exec(select(AuditEvent).where(
        AuditEvent.action == "backcheck.call")).all()) == 1
    # The page shown after the first call takes the next one.
    page = client.get(url).get_data(as_text=True)
    assert 'name="attempt" type="hidden" value="1"' in page


def test_record_call_refuses_a_stale_count(session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    case = _first_case(session, draw)
    backchecks.record_call(case, campaign=bc.campaign, outcome="busy", answers={},
                           session=session, actor=bc.evaluator, seen_attempts=0)
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backchecks.record_call(case, campaign=bc.campaign, outcome="busy", answers={},
                               session=session, actor=bc.evaluator, seen_attempts=0)
    assert refused.value.reason == "call_changed" and case.attempts == 1
