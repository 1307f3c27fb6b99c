"""The roll-up cache: a hit returns the identical (frozen) document, found with two grouped
queries; a change in any county (a response, an audited roster import, a campaign moved to
another unit) is seen at once. Behaviour only — the timings are in
benchmarks/bench_province.py."""

import random

import pytest
from sqlalchemy import event

from survey_app.extensions import db
from survey_app.models import HouseholdGroup
from survey_app.services import rollups, roster, score_cache, units
from survey_app.services.questionnaire_versions import attach_builtin_questionnaires
from tests.factories import make_campaign
from tests.perf.test_score_cache import _respond

PROVINCE, CITY = "430000", "430900"


@pytest.fixture
def region(make_app):
    app = make_app(SCORE_CACHE_SETTLE_SECONDS=0)  # the test's fresh data may be cached
    with app.app_context():
        session = db.session
        units.import_units([units.UnitRow(2, PROVINCE, "湖南省", ""),
                            units.UnitRow(3, CITY, "益阳市", PROVINCE),
                            units.UnitRow(4, "430902", "资阳区", CITY),
                            units.UnitRow(5, "430903", "赫山区", CITY)], session=session)
        rng = random.Random(3)
        made = []
        for code in ("430902", "430903"):
            campaign = make_campaign(session, year=2021)
            attach_builtin_questionnaires(campaign, session=session)
            _import(session, campaign, "A", 30, "rental_subsidy")
            _import(session, campaign, "B", 10, "relocated")
            units.assign_campaign(campaign, units.unit_by_code(code, session=session),
                                  session=session)
            for group in [HouseholdGroup.RENTAL_SUBSIDY] * 6 + [HouseholdGroup.RELOCATED] * 4:
                _respond(session, campaign, rng, group)
            made.append(campaign)
        session.flush()
        yield {"session": session, "campaigns": made, "rng": rng,
               "city": units.unit_by_code(CITY, session=session)}


def _import(session, campaign, prefix: str, n: int, group: str) -> None:
    rows = [roster.RosterRow(2 + i, {
        "household_code": f"{prefix}{i:04d}", "group": group,
        "project": "项目一" if group == "relocated" else "", "community": "新社区",
        "street": "新街道", "head_name": f"演示{i}", "id_number": "", "phone": "",
        "address": ""}) for i in range(n)]
    roster.import_roster(campaign, rows, session=session, pii_key="k", contact_key="c")


def _rollup(region):
    return rollups.rollup_document(region["city"], 2021, session=region["session"])


def test_a_hit_returns_the_identical_document_in_two_grouped_queries(region):
    first = _rollup(region)
    assert first.respondents > 0
    statements = []
    engine = region["session"].get_bind().engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, sql...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert _rollup(region) is first
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # the unit path lookup of the campaigns, the responses' and the audit events' aggregates
    assert len(statements) == 3, statements


def test_a_new_response_in_one_county_is_seen(region):
    first = _rollup(region)
    for _ in range(5):  # an answer "9" (cannot say) to the overall item is no valid answer
        _respond(region["session"], region["campaigns"][0], region["rng"])
    region["session"].flush()
    second = _rollup(region)
    assert second is not first and second.respondents > first.respondents


def test_an_audited_roster_import_is_seen(region):
    first = _rollup(region)
    _import(region["session"], region["campaigns"][1], "R", 30, "rental_subsidy")
    region["session"].flush()
    second = _rollup(region)
    assert second is not first and second.population != first.population


def test_a_campaign_moved_out_of_the_region_is_seen(region):
    first = _rollup(region)
    assert len(first.counties) == 2
    units.assign_campaign(region["campaigns"][0], None, session=region["session"])
    region["session"].flush()
    assert len(_rollup(region).counties) == 1


def test_recent_changes_are_not_cached(region):
    from flask import current_app

    current_app.config["SCORE_CACHE_SETTLE_SECONDS"] = 120
    first = _rollup(region)
    assert _rollup(region) is not first
    assert len(score_cache.rollup_cache_of_app()) == 0
