"""Hostile posts to the field sync (found reviewing the offline interviews as an attacker):
each is refused with a 4xx and stores nothing, never a 500."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import Response
from tests.entry import test_field_interviews as field_tests

worker = field_tests.worker  # the logged-in worker of community A with its CSRF header


def _send(client, world, post):
    return field_tests._send(client, world, post)


@pytest.mark.parametrize("household_id", [2**31, 2**40, 2**63, 2**70, True, -(2**70)])
def test_a_household_id_out_of_range_or_boolean_is_malformed(worker, world, session,
                                                             household_id):
    post = field_tests._interview(world, world.households_a[0], household_id=household_id)
    answer = _send(worker, world, post)
    assert answer.status_code in (400, 404)
    assert session.exec(select(Response)).all() == []


@pytest.mark.parametrize(("start", "end"), [
    ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:01+14:00"),
    ("9999-12-31T23:59:58-14:00", "9999-12-31T23:59:59-14:00")])
def test_times_at_the_ends_of_the_calendar_are_bad_paradata(worker, world, start, end):
    paradata = {**field_tests._paradata(), "started_at": start, "ended_at": end}
    post = field_tests._interview(world, world.households_a[0], paradata=paradata)
    answer = _send(worker, world, post)
    assert answer.status_code == 400 and answer.get_json()["error"] == "paradata"


def test_a_deeply_nested_body_is_refused_not_a_server_error(worker, world):
    answer = worker.post(field_tests._url(world, "interviews"), data="[" * 100_000,
                         headers={**worker.headers, "Content-Type": "application/json"})
    assert answer.status_code == 400


def test_an_unsampled_household_is_refused_with_its_own_code_and_nothing_stored(
        worker, world, session):
    # F11: the pack lists only sampled households, but a post may name any household of the
    # worker's community. Paper entry takes an unsampled one only by an explicit choice
    # (?all), so the sync refuses it and says where it can go instead.
    from tests.entry.conftest import add_household

    outsider = add_household(session, world.campaign, world.community_a, "PG09999",
                             sampled=False)
    answer = _send(worker, world, field_tests._interview(world, outsider))
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "unsampled"
    assert "不在" in body["message"] and "纸质" in body["message"]
    assert body["enter"] == f"/entry/{world.campaign.slug}/households/{outsider.id}/enter"
    english = worker.post(field_tests._url(world, "interviews") + "?lang=en",
                          json=field_tests._interview(world, outsider),
                          headers=worker.headers).get_json()
    assert english["error"] == "unsampled" and "not in the sample" in english["message"]
    assert session.exec(select(Response)).all() == []
    session.refresh(outsider)
    assert outsider.disposition != "completed"


def test_another_communitys_household_is_not_found_with_a_message(worker, world, session):
    answer = _send(worker, world, field_tests._interview(world, world.households_b[0]))
    assert answer.status_code == 404
    body = answer.get_json()
    assert body["error"] == "not_found" and body["message"]
    assert "enter" not in body  # not this worker's to enter on paper either
    assert session.exec(select(Response)).all() == []


def _dated(world, household, start, end):
    paradata = {**field_tests._paradata(), "started_at": start.isoformat(),
                "ended_at": end.isoformat()}
    return field_tests._interview(world, household, paradata=paradata)


def test_an_interview_before_the_campaign_began_is_refused_naming_the_field(
        worker, world, session):
    # F12: started and ended in 2001 (a phone whose clock was reset, or a forged post) and
    # twelve minutes long: no upper bound was broken, and without an opening date nothing
    # refused it. The bound is the opening day (Beijing midnight) or, without one, the
    # campaign's creation.
    from datetime import UTC, date, datetime, timedelta

    old = datetime(2001, 3, 1, 2, 0, tzinfo=UTC)
    answer = _send(worker, world, _dated(world, world.households_a[0], old,
                                         old + timedelta(minutes=12)))
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["error"], body["part"]) == ("too_early", "started_at")
    assert "早于" in body["message"] and "2001-03-01 10:00" in body["message"]
    world.campaign.opens_on = date.today() - timedelta(days=3)
    session.add(world.campaign)
    session.flush()
    before = datetime.now(UTC) - timedelta(days=5)
    answer = _send(worker, world, _dated(world, world.households_a[0], before,
                                         before + timedelta(minutes=12)))
    assert answer.get_json()["error"] == "too_early"
    assert world.campaign.opens_on.isoformat() in answer.get_json()["message"]
    assert session.exec(select(Response)).all() == []
    now = datetime.now(UTC)
    assert _send(worker, world, _dated(world, world.households_a[0], now - timedelta(
        minutes=8), now - timedelta(minutes=1))).status_code == 201


def test_an_interview_ending_in_the_future_is_refused_naming_the_field(worker, world,
                                                                       session):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    answer = _send(worker, world, _dated(world, world.households_a[0], now,
                                         now + timedelta(minutes=30)))
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["error"], body["part"]) == ("future", "ended_at")
    assert "将来" in body["message"]
    # Within the clock-skew allowance (fi.CLOCK_SLACK): believed.
    assert _send(worker, world, _dated(world, world.households_a[0], now - timedelta(
        minutes=5), now + timedelta(minutes=3))).status_code == 201
