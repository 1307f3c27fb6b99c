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
