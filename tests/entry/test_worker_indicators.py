"""Keying paradata and fabrication indicators per worker (issue 20 item 5): the signed start
of an entry page, the service that collects the data, and the entry-quality page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlmodel import select

from survey_app.models import PaperEntry, Role, utcnow
from survey_app.services import paper_entry, score_cache, worker_indicators
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from tests.entry.conftest import UserClient, add_household, build_field, form_data, typed_answers
from tests.factories import make_user


def _questionnaire(session, world, household):
    return questionnaire_of(version_for_group(world.campaign, household.household_group,
                                              session=session))


def _stamp(page: str) -> str:
    return re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)


def _enter_path(world, household) -> str:
    return f"/entry/{world.campaign.slug}/households/{household.id}/enter"


# --- the signed start of an entry page --------------------------------------------------------
def test_an_entry_runs_from_the_page_shown_to_the_save(app, session, world):
    client = UserClient(app, world.worker_a)
    household = world.households_a[0]
    stamp = _stamp(client.get(_enter_path(world, household)).get_data(as_text=True))
    typed = typed_answers(_questionnaire(session, world, household), seed=1)
    assert client.post(_enter_path(world, household),
                       data=form_data(typed, started=stamp)).status_code == 302
    entry = session.exec(select(PaperEntry)).one()
    assert entry.started_at is not None
    assert 0 <= (entry.created_at - entry.started_at).total_seconds() < 5  # whole seconds


def test_a_reshown_form_keeps_its_first_stamp(app, session, world):
    client = UserClient(app, world.worker_a)
    household = world.households_a[0]
    stamp = _stamp(client.get(_enter_path(world, household)).get_data(as_text=True))
    typed = typed_answers(_questionnaire(session, world, household), seed=1)
    broken = {**typed, "overall_satisfaction": "7"}  # not a code: the form is re-shown
    page = client.post(_enter_path(world, household), data=form_data(broken, started=stamp))
    assert page.status_code == 200
    assert _stamp(page.get_data(as_text=True)) == stamp


@pytest.mark.parametrize("stamp", ["", "forged.stamp.value", "OTHER_HOUSEHOLD", "OTHER_USER"])
def test_a_missing_forged_or_borrowed_start_is_ignored(app, session, world, stamp):
    client = UserClient(app, world.worker_a)
    household, other = world.households_a[:2]
    if stamp == "OTHER_HOUSEHOLD":
        stamp = _stamp(client.get(_enter_path(world, other)).get_data(as_text=True))
    elif stamp == "OTHER_USER":
        colleague = UserClient(app, world.worker_a2)
        stamp = _stamp(colleague.get(_enter_path(world, household)).get_data(as_text=True))
    typed = typed_answers(_questionnaire(session, world, household), seed=2)
    assert client.post(_enter_path(world, household),
                       data=form_data(typed, started=stamp)).status_code == 302
    assert session.exec(select(PaperEntry.started_at)).one() is None


def test_a_start_after_the_save_is_not_kept(session, world):
    household = world.households_a[0]
    typed = typed_answers(_questionnaire(session, world, household), seed=3)
    outcome = paper_entry.enter_paper_form(
        session=session, campaign=world.campaign, household=household, typed=typed,
        worker=world.worker_a, started_at=utcnow() + timedelta(minutes=5))
    assert outcome.entry.started_at is None


# --- the service --------------------------------------------------------------------------------
def _made_up(questionnaire) -> dict[str, str]:
    """A form a worker filled in at the desk: 满意 (4) on every rating item."""
    typed = typed_answers(questionnaire, seed=0)
    return {**typed, **{q.id: "4" for q in questionnaire.questions() if q.type == "rating"}}


def _key(session, world, household, worker, typed, seconds):
    paper_entry.enter_paper_form(
        session=session, campaign=world.campaign, household=household, typed=typed,
        worker=worker, started_at=utcnow() - timedelta(seconds=seconds))


def _keyed_field(session):
    """Three workers of community A with 12 first entries each; the third invents answers.
    Worker A keys 4 second entries of A2's forms. Every entry took ~90 s (A3: ~20 s)."""
    world = build_field(session, count_a=36)
    workers = (world.worker_a, world.worker_a2, world.worker_a3)
    for index, household in enumerate(world.households_a):
        worker = workers[index // 12]
        questionnaire = _questionnaire(session, world, household)
        invented = worker is world.worker_a3
        typed = _made_up(questionnaire) if invented else typed_answers(questionnaire, index)
        _key(session, world, household, worker, typed, 20 if invented else 90)
        if worker is world.worker_a2 and index < 16:
            _key(session, world, household, world.worker_a, typed, 90)
    return world


def test_worker_screen_collects_paradata_and_answer_patterns(session):
    world = _keyed_field(session)
    result = worker_indicators.worker_screen(world.campaign, session=session,
                                             permutations=199)
    rows = {row.user_id: row for row in result.rows}
    assert result.forms == 36 and result.forms_left_out == 0
    a, a2, a3 = (rows[w.id] for w in (world.worker_a, world.worker_a2, world.worker_a3))
    # Paradata: A typed 12 first and 4 second entries; every start is known.
    assert (a.pace.entries, a.pace.timed, a2.pace.entries) == (16, 16, 12)
    assert a.pace.median_seconds == pytest.approx(90, abs=3)
    assert a3.pace.median_seconds == pytest.approx(20, abs=3)
    assert a.first_saved <= a.last_saved
    # Forms belong to who keyed the first entry: 12 each, second entries not counted.
    assert [r.indicators.forms for r in (a, a2, a3)] == [12, 12, 12]
    # The invented forms: one straight line each, all identical, no spread.
    assert a3.indicators.straight_lining_share == 1.0
    assert a3.indicators.duplicate_pattern_share == 1.0
    assert a3.indicators.answer_variance == 0.0
    assert a3.indicators.p_value == min(r.indicators.p_value for r in (a, a2, a3))
    assert a.indicators.answer_variance > 0.3


def test_phone_interviews_are_forms_of_the_worker_who_took_them(session):
    """Issue 22: a worker who invents interviews on the phone is screened like paper."""
    from questionnaires import validate_answers
    from survey_app.services.responses import store_response

    world = _keyed_field(session)
    interviewer = world.worker_b  # another community: no paper forms of their own
    households = [add_household(session, world.campaign, world.community_b, f"ZL9{i:04d}")
                  for i in range(12)]
    for index, household in enumerate(households):
        version = version_for_group(world.campaign, household.household_group, session=session)
        questionnaire = questionnaire_of(version)
        store_response(
            session=session, campaign=world.campaign, version=version,
            group=household.household_group, mode="interview",
            instance_id=f"interview-{index}", household=household, entered_by=interviewer,
            values=validate_answers(questionnaire, _made_up(questionnaire)).values)
    result = worker_indicators.worker_screen(world.campaign, session=session,
                                             permutations=199)
    assert (result.forms, result.interviews) == (36 + 12, 12)
    rows = {row.user_id: row for row in result.rows}
    taken = rows[interviewer.id]
    assert taken.pace.entries == 0 and taken.first_saved is None  # no keying time
    assert taken.indicators.forms == 12
    assert taken.indicators.straight_lining_share == 1.0
    assert taken.indicators.duplicate_pattern_share == 1.0
    assert rows[world.worker_a.id].indicators.forms == 12  # paper owners unchanged


def test_worker_screen_of_a_campaign_without_paper_forms(session, world):
    result = worker_indicators.worker_screen(world.campaign, session=session)
    assert result.rows == () and result.forms == 0 and result.flagged == 0


def test_worker_screen_is_reproducible(session):
    world = _keyed_field(session)
    first = worker_indicators.worker_screen(world.campaign, session=session, permutations=99)
    again = worker_indicators.worker_screen(world.campaign, session=session, permutations=99)
    assert first.screen == again.screen


def test_the_page_reuses_the_screen_until_a_form_is_keyed(session, world):
    current_app.config["SCORE_CACHE_SETTLE_SECONDS"] = 0  # the test's fresh data may be cached
    households = world.households_a
    for index, household in enumerate(households[:3]):
        typed = typed_answers(_questionnaire(session, world, household), index)
        _key(session, world, household, world.worker_a, typed, 60)
    first = score_cache.cached_worker_screen(world.campaign, session=session)
    assert score_cache.cached_worker_screen(world.campaign, session=session) is first
    # A first entry awaiting its second round changes no response, only the audit trail.
    typed = typed_answers(_questionnaire(session, world, households[3]), 3)
    _key(session, world, households[3], world.worker_a, typed, 60)
    again = score_cache.cached_worker_screen(world.campaign, session=session)
    assert (first.forms, again.forms) == (3, 4)


def test_workers_with_too_few_forms_are_not_tested(session, world):
    for index, household in enumerate(world.households_a[:5]):
        typed = typed_answers(_questionnaire(session, world, household), index)
        _key(session, world, household, world.worker_a, typed, 60)
    (row,) = worker_indicators.worker_screen(world.campaign, session=session).rows
    assert row.indicators.forms == 5 and row.indicators.adjusted_p_value is None
    assert not row.indicators.flagged


# --- the page -----------------------------------------------------------------------------------
def test_quality_page_shows_indicators_and_their_explanation(app, session):
    world = _keyed_field(session)
    evaluator = make_user(session, Role.EVALUATOR)
    page = UserClient(app, evaluator).get(f"/entry/{world.campaign.slug}/quality")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert world.worker_a3.username in html
    assert "录入用时中位数" in html and "与其他人的差异" in html
    assert "标记只说明应优先复核其问卷" in html  # a flag is a reason to back-check
    assert "100.0%" in html  # A3's straight-lining share


def test_workers_do_not_see_the_quality_page(app, session, world):
    page = UserClient(app, world.worker_a).get(f"/entry/{world.campaign.slug}/quality")
    assert page.status_code == 403


def test_a_stamp_older_than_a_day_is_not_believed(app, monkeypatch):
    import time

    from survey_app.entry import forms

    with app.test_request_context():
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - 25 * 3600)
        old = forms.entry_start_stamp(7, 3)
        monkeypatch.setattr(time, "time", real)
        assert forms.entry_started_at(old, 7, 3) is None
        assert forms.entry_started_at(forms.entry_start_stamp(7, 3), 7, 3) is not None
