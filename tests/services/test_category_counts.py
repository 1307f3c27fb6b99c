"""Category counts (issue 23 item 4): the roll-up's strata from the counts equal those of the
full computation, unrounded; the change ledger marks every change to the counted data; the
consistency check passes after submissions, paper verification and exclusion and fails on a
tampered count.

Independent path: each campaign's counted responses loaded row by row
(counted_data.load_counted) and each household group's cell computed by the scores
document's own cell statistics (cell_statistics.cell_statistics: the full response matrix,
analysis.campaign_statistics), unrounded; analysis.region_rollup then rolls both sets of
strata up the same way.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import update
from sqlmodel import select

import analysis
from questionnaires import validate_answers
from survey_app.models import (
    CampaignQuestionnaire,
    CategoryCount,
    Household,
    HouseholdGroup,
    PairSum,
    Project,
    QuestionnaireVersion,
    Response,
    ResponseMode,
    Role,
    RosterCount,
)
from survey_app.services import (
    campaigns,
    category_counts,
    demo,
    pair_sums,
    quality_flags,
    rollup_counts,
    rollups,
    units,
)
from survey_app.services.answer_copies import NO_ANSWER, rating_item_ids
from survey_app.services.cell_statistics import cell_statistics
from survey_app.services.counted_data import load_counted
from survey_app.services.paper_entry import enter_paper_form
from survey_app.services.questionnaire_versions import (
    attach_builtin_questionnaires,
    questionnaire_of,
    version_for_group,
)
from survey_app.services.responses import store_response
from survey_app.services.score_filters import MIN_CELL
from survey_app.services.scores import roster_counts
from tests.entry.conftest import add_household, build_field, typed_answers
from tests.factories import make_campaign, make_community, make_user
from tests.perf.test_rollup_cache import _import
from tests.perf.test_score_cache import _respond, _values

CITY = "430900"


def _reference_strata(under, session):
    """(rate cells, score cells) of the campaigns ``under`` a unit, from the full matrix."""
    rate_cells, score_cells = [], []
    nan = float("nan")
    for campaign, county in under:
        data = load_counted(campaign, session=session)
        pops = roster_counts(campaign, session=session).populations()
        for group in sorted(set(pops) | set(data.groups)):
            mask = data.factor("groups").mask(group)
            population = pops.get(group, 0)
            stats = None
            if int(mask.sum()) >= MIN_CELL:
                stats, _design = cell_statistics(data, mask, {group: population})
            item = None if stats is None else next(
                it for it in stats.items if it.name == data.overall_item)
            if item is None or not population:
                size = max(population if int(mask.sum()) >= MIN_CELL else 0, 1)
                rate_cells.append(analysis.RollupCell(county.code, group, size, 0, nan, nan))
                score_cells.append(analysis.RollupCell(county.code, group, size, 0, nan, nan))
                continue
            e, n_valid = item.estimates, item.summary.n_valid
            size = max(population, n_valid)
            rate_cells.append(analysis.RollupCell(county.code, group, size, n_valid,
                                                  e.rate.estimate, e.rate.se))
            score_cells.append(analysis.RollupCell(county.code, group, size, n_valid,
                                                   e.score.estimate, 0.8 * e.index.se))
    return rate_cells, score_cells


def _assert_same_strata(strata, reference) -> None:
    for got, want in zip((strata.rate_cells, strata.score_cells), reference, strict=True):
        assert [(c.unit, c.group, c.population, c.respondents) for c in got] == \
            [(c.unit, c.group, c.population, c.respondents) for c in want]
        assert_allclose([[c.estimate, c.se] for c in got],
                        [[c.estimate, c.se] for c in want], rtol=1e-12)
        for measure in ("rate", "score"):
            rolled = analysis.region_rollup(got, measure=measure).total
            expected = analysis.region_rollup(want, measure=measure).total
            assert_allclose([rolled.estimate, rolled.se, rolled.effective_n],
                            [expected.estimate, expected.se, expected.effective_n],
                            rtol=1e-12)


@pytest.mark.demo_data
def test_the_demo_city_from_counts_equals_the_full_computation(app, session):
    city = units.unit_by_code(CITY, session=session)
    under = units.campaigns_under(city, 2021, session=session)
    reference = _reference_strata(under, session)
    # Pending changes: the counts are recomputed in memory; then read from the stored rows.
    assert category_counts.pending([c.id for c, _u in under], session=session)
    _assert_same_strata(rollup_counts.region_strata(under, session=session), reference)
    category_counts.refresh([c for c, _u in under], session=session)
    assert not category_counts.pending([c.id for c, _u in under], session=session)
    strata = rollup_counts.region_strata(under, session=session)
    _assert_same_strata(strata, reference)
    assert len(strata.rate_cells) == 6 and all(c.respondents for c in strata.rate_cells)
    doc = rollups.rollup_document(city, 2021, session=session)
    total = analysis.region_rollup(reference[0], measure="rate").total
    assert doc.rate.estimate == round(total.estimate, 4)
    assert doc.rate.se == round(total.se, 6)


def _region(session):
    """Three counties: 资阳区's relocated group answered (6) without roster households, 赫山区's
    is suppressed (3 answers < MIN_CELL), 南县's answered the overall item only (every other
    item 9: no dimension to compute); an unverified open-link answer (not counted); answers
    9 (not applicable) among the codes."""
    units.import_units([units.UnitRow(2, "430000", "湖南省", ""),
                        units.UnitRow(3, CITY, "益阳市", "430000"),
                        units.UnitRow(4, "430902", "资阳区", CITY),
                        units.UnitRow(5, "430903", "赫山区", CITY),
                        units.UnitRow(6, "430921", "南县", CITY)], session=session)
    rng = random.Random(11)
    made = []
    for code, relocated in (("430902", 6), ("430903", 3)):
        campaign = make_campaign(session, year=2021)
        attach_builtin_questionnaires(campaign, session=session)
        _import(session, campaign, "A", 40, "rental_subsidy")
        if code == "430903":
            _import(session, campaign, "B", 12, "relocated")
        units.assign_campaign(campaign, units.unit_by_code(code, session=session),
                              session=session)
        for group in ([HouseholdGroup.RENTAL_SUBSIDY] * 14
                      + [HouseholdGroup.RELOCATED] * relocated):
            _respond(session, campaign, rng, group)
        made.append(campaign)
    version = version_for_group(made[0], HouseholdGroup.RENTAL_SUBSIDY, session=session)
    store_response(session=session, campaign=made[0], version=version,
                   group=HouseholdGroup.RENTAL_SUBSIDY, mode=ResponseMode.WEB_OPEN,
                   instance_id=str(uuid.uuid4()),
                   values=_values(questionnaire_of(version), rng))
    made.append(_overall_only_county(session, rng))
    session.flush()
    return made


def _overall_only_county(session, rng):
    campaign = make_campaign(session, year=2021)
    attach_builtin_questionnaires(campaign, session=session)
    _import(session, campaign, "C", 20, "rental_subsidy")
    units.assign_campaign(campaign, units.unit_by_code("430921", session=session),
                          session=session)
    group = HouseholdGroup.RENTAL_SUBSIDY
    version = version_for_group(campaign, group, session=session)
    questionnaire = questionnaire_of(version)
    overall = next(item.id for item in questionnaire.rating_items() if item.overall)
    for _ in range(6):
        values = _values(questionnaire, rng)
        values.update({item.id: "9" for item in questionnaire.rating_items()
                       if not item.overall})
        values[overall] = rng.choice("54")
        store_response(session=session, campaign=campaign, version=version, group=group,
                       mode=ResponseMode.WEB_TOKEN, instance_id=str(uuid.uuid4()),
                       values=values)
    return campaign


def test_a_constructed_region_from_counts_equals_the_full_computation(app, session):
    made = _region(session)
    admin = make_user(session, Role.ADMIN)
    first = session.exec(select(Response.id).where(Response.campaign_id == made[1].id)
                         .order_by(Response.id)).first()
    quality_flags.set_exclusion(first, campaign=made[1], excluded=True, reason="test",
                                actor=admin, session=session)
    session.flush()
    under = units.campaigns_under(units.unit_by_code(CITY, session=session), 2021,
                                  session=session)
    reference = _reference_strata(under, session)
    assert [c.respondents == 0 for c in reference[0]] == [True, False, True, False, True]
    category_counts.refresh(made, session=session)
    _assert_same_strata(rollup_counts.region_strata(under, session=session), reference)
    doc = rollups.rollup_document(units.unit_by_code(CITY, session=session), 2021,
                                  session=session)
    assert doc.left_out == ["430902/relocated", "430903/relocated", "430921/rental_subsidy"]


def _check(campaign, session):
    category_counts.refresh([campaign], session=session)
    result = category_counts.check([campaign], session=session)
    assert result.ok and result.pending == [], result.differences


def test_every_change_marks_its_campaign_and_the_check_passes_after_it(app, session):
    world = build_field(session, double_entry=True, count_a=2)
    campaign = world.campaign
    _check(campaign, session)
    # A web submission.
    rng = random.Random(5)
    response = _respond(session, campaign, rng)
    session.flush()
    assert category_counts.pending([campaign.id], session=session) == {campaign.id}
    _check(campaign, session)
    # A paper form typed twice identically: verified, counted.
    household = world.households_a[0]
    version = version_for_group(campaign, household.household_group, session=session)
    typed = typed_answers(questionnaire_of(version), seed=3)
    enter_paper_form(session=session, campaign=campaign, household=household, typed=typed,
                     worker=world.worker_a)
    session.flush()
    _check(campaign, session)
    enter_paper_form(session=session, campaign=campaign, household=household, typed=typed,
                     worker=world.worker_a2)
    session.flush()
    assert category_counts.pending([campaign.id], session=session) == {campaign.id}
    counts = category_counts.stored_counts(campaign.id, session=session)
    _check(campaign, session)
    assert sum(n for key, n in category_counts.stored_counts(
        campaign.id, session=session).items() if key[4] == "") == 2
    assert category_counts.stored_counts(campaign.id, session=session) != counts
    # An exclusion, and counting it again.
    for excluded in (True, False):
        quality_flags.set_exclusion(response.id, campaign=campaign, excluded=excluded,
                                    reason="test", actor=world.admin, session=session)
        session.flush()
        assert category_counts.pending([campaign.id], session=session) == {campaign.id}
        _check(campaign, session)
    # A household moved to another community moves its answers' cell.
    household.community_id = world.community_b.id
    session.flush()
    assert category_counts.pending([campaign.id], session=session) == {campaign.id}
    _check(campaign, session)
    # A roster household added, regrouped, deleted: N_h.
    added = add_household(session, campaign, world.community_a, "X-1")
    for change in ("group", "delete"):
        assert category_counts.pending([campaign.id], session=session) == {campaign.id}
        _check(campaign, session)
        if change == "group":
            added.household_group = HouseholdGroup.RENTAL_SUBSIDY
        else:
            session.delete(added)
        session.flush()
    _check(campaign, session)
    assert category_counts.stored_roster(campaign.id, session=session) == \
        category_counts.computed_roster(campaign.id, session=session)
    # A questionnaire detached: which items are the campaign's dimensions.
    session.delete(session.exec(select(CampaignQuestionnaire).where(
        CampaignQuestionnaire.campaign_id == campaign.id)).first())
    session.flush()
    assert category_counts.pending([campaign.id], session=session) == {campaign.id}
    _check(campaign, session)


def test_the_check_fails_on_a_tampered_count(app, session, runner):
    campaign = _region(session)[0]
    category_counts.refresh([campaign], session=session)
    assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
    session.execute(update(CategoryCount).where(
        CategoryCount.campaign_id == campaign.id, CategoryCount.item == "",
        CategoryCount.household_group == "relocated").values(n=CategoryCount.n + 1))
    result = runner.invoke(args=["counts", "check", campaign.slug])
    assert result.exit_code == 1
    assert "group relocated" in result.output and "stored 7, recomputed 6" in result.output
    assert "1 count(s) differ" in result.output
    session.execute(update(RosterCount).where(RosterCount.campaign_id == campaign.id)
                    .values(n=RosterCount.n - 1))
    result = runner.invoke(args=["counts", "check", campaign.slug])
    assert result.exit_code == 1 and "roster households: community" in result.output
    assert runner.invoke(args=["counts", "rebuild", campaign.slug]).exit_code == 0
    assert runner.invoke(args=["counts", "check"]).exit_code == 0


@pytest.mark.demo_data
def test_the_rollup_page_writes_nothing_and_the_refresh_pass_keeps_the_counts(
        app, client, session, runner):
    from tests.factories import login

    login(client, make_user(session))
    heshan = campaigns.get_campaign(demo.SLUG, session=session)
    assert heshan.id in category_counts.pending([heshan.id], session=session)
    page = client.get(f"/evaluate/units/{CITY}/2021")
    assert page.status_code == 200 and "赫山区" in page.get_data(as_text=True)
    assert heshan.id in category_counts.pending([heshan.id], session=session)  # a GET
    result = runner.invoke(args=["counts", "refresh"])
    assert result.exit_code == 0 and "refreshed" in result.output
    assert not category_counts.pending([heshan.id], session=session)
    assert category_counts.check([heshan], session=session).ok
    assert category_counts.refresh_pending(session=session) == []
    assert np.isfinite(rollups.rollup_document(
        units.unit_by_code(CITY, session=session), 2021, session=session).rate.estimate)


def _varied_values(questionnaire, rng) -> dict:
    """Valid answers with every scale code and 9 among the rating items."""
    raw = dict(_values(questionnaire, rng))
    raw.update({item.id: rng.choice("12345559") for item in questionnaire.rating_items()})
    check = validate_answers(questionnaire, raw)
    assert check.ok, check.errors
    return check.values


def _two_projects(session):
    """A campaign whose responses lie in two projects, without a project (a household of
    none, and web answers of no household), two communities, both groups and two modes;
    a few rating codes stored as no answer. Returns the campaign and its projects."""
    campaign = make_campaign(session, year=2021)
    attach_builtin_questionnaires(campaign, session=session)
    projects = [Project(campaign_id=campaign.id, code=f"P{k}", name=f"项目{k}") for k in (1, 2)]
    session.add_all(projects)
    session.flush()
    communities = [make_community(session), make_community(session, name="金银山社区")]
    rng = random.Random(23)
    for k in range(40):
        group = HouseholdGroup.RENTAL_SUBSIDY if k % 4 == 0 else HouseholdGroup.RELOCATED
        household = add_household(session, campaign, communities[k % 2], f"PJ{k:04d}", group)
        household.project_id = None if k % 3 == 2 else projects[k % 3].id
        session.flush()
        version = version_for_group(campaign, group, session=session)
        store_response(session=session, campaign=campaign, version=version, group=group,
                       mode=(ResponseMode.WEB_OPEN if k % 5 == 0 else ResponseMode.WEB_TOKEN),
                       instance_id=str(uuid.uuid4()), household=household,
                       values=_varied_values(questionnaire_of(version), rng))
    for _ in range(3):
        _respond(session, campaign, rng, HouseholdGroup.RELOCATED)
    session.flush()
    for response in session.exec(select(Response).where(
            Response.campaign_id == campaign.id).order_by(Response.id)).all()[::7]:
        codes = list(response.rating_codes)
        codes[1] = codes[4] = NO_ANSWER
        response.rating_codes = "".join(codes)
    session.flush()
    return campaign, projects


def _by_hand(campaign, session) -> tuple[Counter, dict]:
    """The category counts and pair sums of ``campaign`` recomputed with numpy from its
    decoded response matrix (load_counted), each response's cell read from its household."""
    data = load_counted(campaign, session=session)
    where = {rid: (community or 0, project or 0) for rid, community, project in session.exec(
        select(Response.id, Household.community_id, Household.project_id)
        .join(Household, Household.id == Response.household_id, isouter=True)
        .where(Response.campaign_id == campaign.id)).all()}
    versions = dict(session.exec(select(Response.id, Response.questionnaire_version_id)
                                 .where(Response.campaign_id == campaign.id)).all())
    own_items = {v: set(rating_item_ids(questionnaire_of(session.get(QuestionnaireVersion, v))))
                 for v in set(versions.values())}
    cells = [(where[rid][0], group, mode, where[rid][1]) for rid, group, mode in zip(
        data.response_ids, data.groups, data.modes, strict=True)]
    row = {item: j for j, item in enumerate(data.item_ids)}
    scale = sorted({item for items in data.dimensions.values() for item in items})
    codes = data.codes
    valid = (codes >= 1) & (codes <= 5)
    counts: Counter = Counter()
    sums: dict = {}
    for cell in sorted(set(cells)):
        mask = np.array([c == cell for c in cells])
        counts[(*cell, "", 0)] = int(mask.sum())
        answered = int((mask & valid[[row[i] for i in scale]].any(axis=0)).sum())
        if answered:
            counts[(*cell, "*", 0)] = answered
        for item, j in row.items():
            has = mask & np.array([item in own_items[versions[rid]]
                                   for rid in data.response_ids])
            found, ns = np.unique(np.nan_to_num(codes[j][has], nan=0), return_counts=True)
            counts.update({(*cell, item, int(code)): int(n) for code, n in zip(found, ns)})
        for a_index, a in enumerate(scale):
            for b in scale[a_index:]:
                both = mask & valid[row[a]] & valid[row[b]]
                xa, xb = codes[row[a]][both], codes[row[b]][both]
                if both.any():
                    sums[(*cell, a, b)] = tuple(int(v) for v in (
                        both.sum(), xa.sum(), xb.sum(), (xa * xb).sum(), (xa * xa).sum(),
                        (xb * xb).sum(), (xa >= 4).sum(), (xb >= 4).sum(),
                        ((xa >= 4) & (xb >= 4)).sum()))
    return counts, sums


def test_counts_and_pair_sums_per_project_equal_a_recomputation_by_hand(app, session):
    campaign, projects = _two_projects(session)
    category_counts.refresh([campaign], session=session)
    counts, sums = _by_hand(campaign, session)
    stored = category_counts.stored_counts(campaign.id, session=session)
    assert stored == counts
    assert pair_sums.stored(campaign.id, session=session) == sums
    # Not vacuous: both projects and "none" hold responses, with unanswered codes and with
    # pairs where some but not all of those answering both were satisfied with both.
    assert {key[3] for key in stored} == {0, projects[0].id, projects[1].id}
    assert sum(n for key, n in stored.items() if key[4] == "") == 43
    assert any(key[5] == 0 and key[4] not in ("", "*") for key in stored)
    assert any(0 < v[8] < v[0] and v[6] != v[7] for v in sums.values())
    # A household moved to the other project marks the campaign; its answers move along.
    moved = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.project_id == projects[0].id)).first()
    moved.project_id = projects[1].id
    session.flush()
    assert category_counts.pending([campaign.id], session=session) == {campaign.id}
    category_counts.refresh([campaign], session=session)
    moved_counts, moved_sums = _by_hand(campaign, session)
    assert moved_counts != counts
    assert category_counts.stored_counts(campaign.id, session=session) == moved_counts
    assert pair_sums.stored(campaign.id, session=session) == moved_sums
    assert category_counts.check([campaign], session=session).ok


def test_the_check_names_a_tampered_projects_satisfied_count(app, session, runner):
    campaign, projects = _two_projects(session)
    category_counts.refresh([campaign], session=session)
    assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
    session.execute(update(PairSum).where(PairSum.campaign_id == campaign.id,
                                          PairSum.project_id == projects[1].id)
                    .values(sat_ab=PairSum.sat_ab + 1))
    result = runner.invoke(args=["counts", "check", campaign.slug])
    assert result.exit_code == 1
    assert f"project {projects[1].id} pair" in result.output and "sat_ab" in result.output
    assert f"project {projects[0].id} " not in result.output
    assert runner.invoke(args=["counts", "rebuild", campaign.slug]).exit_code == 0
    session.execute(update(CategoryCount).where(CategoryCount.campaign_id == campaign.id,
                                                CategoryCount.project_id == projects[0].id,
                                                CategoryCount.item == "")
                    .values(n=CategoryCount.n + 1))
    result = runner.invoke(args=["counts", "check", campaign.slug])
    assert result.exit_code == 1
    assert f"project {projects[0].id} item (responses)" in result.output
    assert runner.invoke(args=["counts", "rebuild", campaign.slug]).exit_code == 0
    assert runner.invoke(args=["counts", "check", campaign.slug]).exit_code == 0
