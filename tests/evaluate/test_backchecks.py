"""Back-checks: the seeded draw per worker, the call, the contact reveal and the results."""

from __future__ import annotations

from math import sqrt

import pytest
from numpy.testing import assert_allclose
from sqlmodel import select

from survey_app.models import AuditEvent, BackcheckCase, Role
from survey_app.services import backchecks, contact_vault
from tests.evaluate.backcheck_field import build_backcheck_field, enter
from tests.factories import make_user
from tests.fixtures.settings import TEST_SETTINGS


@pytest.fixture
def bc(session):
    return build_backcheck_field(session, seal_contacts=True)


def _drawn(draw, session) -> dict[str, list[str]]:
    rows = backchecks.case_rows(draw, session=session)
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.worker, []).append(row.household_code)
    return out


def test_the_draw_takes_a_share_of_each_workers_forms_with_a_minimum(session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, share=0.1, minimum=3,
                                      session=session, actor=bc.evaluator)
    sizes = {worker: len(codes) for worker, codes in _drawn(draw, session).items()}
    # 20 forms: max(3, ceil(2.0)) = 3; 8 forms: 3; 3 forms: all 3.
    assert sizes == {bc.worker_a.username: 3, bc.worker_a2.username: 3,
                     bc.worker_b.username: 3}
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "backcheck.draw")).one()
    assert event.details["seed"] == 42 and event.details["drawn"] == 9
    assert event.details["codes_sha256"] == draw.codes_sha256


def test_the_same_seed_and_data_give_the_same_draw(session, bc):
    """Reproducible: drawing again from the seed (after removing the draw) picks the same
    forms; another seed picks others."""
    first = _drawn(backchecks.draw_backchecks(bc.campaign, seed=42, session=session),
                   session)
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backchecks.draw_backchecks(bc.campaign, seed=7, session=session)
    assert refused.value.reason == "already_drawn"

    def redraw(seed):
        draw = backchecks.draw_of(bc.campaign, session=session)
        for case in session.exec(select(BackcheckCase).where(
                BackcheckCase.draw_id == draw.id)).all():
            session.delete(case)
        session.delete(draw)
        session.flush()
        return _drawn(backchecks.draw_backchecks(bc.campaign, seed=seed, share=0.5,
                                                 session=session), session)

    again = redraw(42)
    assert sum(map(len, again.values())) == 10 + 4 + 3 and redraw(42) == again
    assert _drawn(backchecks.draw_of(bc.campaign, session=session), session) == again
    assert redraw(43) != again
    # The default share and minimum again: the first draw exactly.
    draw = backchecks.draw_of(bc.campaign, session=session)
    for case in session.exec(select(BackcheckCase).where(
            BackcheckCase.draw_id == draw.id)).all():
        session.delete(case)
    session.delete(draw)
    session.flush()
    assert _drawn(backchecks.draw_backchecks(bc.campaign, seed=42, session=session),
                  session) == first


def test_the_worker_is_who_typed_the_first_entry(session, bc):
    campaign = bc.campaign
    campaign.double_entry = True
    household = bc.households["ZL00004"]
    enter(session, campaign, household, bc.worker_b, seed=9, second=make_user(
        session, Role.ADMIN))
    forms = {f.household_code: f.worker_id
             for f in backchecks.completed_forms(campaign, session=session)}
    assert forms["ZL00004"] == bc.worker_b.id  # not the admin who typed the second entry
    assert sum(w == bc.worker_b.id for w in forms.values()) == 4


@pytest.mark.parametrize(("share", "minimum", "seed", "reason"), [
    (0, 3, 1, "share"), (1.5, 3, 1, "share"), (0.1, -1, 1, "minimum"), (0.1, 3, -5, "seed"),
])
def test_bad_draw_settings_are_refused(session, bc, share, minimum, seed, reason):
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backchecks.draw_backchecks(bc.campaign, seed=seed, share=share, minimum=minimum,
                                   session=session)
    assert refused.value.reason == reason


def _case(session, campaign, code, bc):
    return backchecks.case_for(campaign, bc.households[code].id, session=session)


def _answers_agreeing(bc, code):
    typed = bc.typed[code]
    return {"visited": "1", "overall_satisfaction": typed["overall_satisfaction"],
            "household_size": typed["household_size"]}


def test_discrepancy_rates_equal_a_hand_computation(session, bc):
    """Worker A: 3 checked, 2 disagree (one says nobody came, one gives another household
    size); worker A2: 1 reached and agreeing, 1 no answer; worker B: none reached."""
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    drawn = _drawn(draw, session)
    a, a2 = drawn[bc.worker_a.username], drawn[bc.worker_a2.username]
    calls = [(a[0], "reached", {**_answers_agreeing(bc, a[0]), "visited": "2"}),
             (a[1], "reached", {**_answers_agreeing(bc, a[1]), "household_size": str(
                 int(bc.typed[a[1]]["household_size"]) % 6 + 1)}),
             (a[2], "reached", _answers_agreeing(bc, a[2])),
             (a2[0], "reached", _answers_agreeing(bc, a2[0])),
             (a2[1], "no_answer", {})]
    for code, outcome, answers in calls:
        backchecks.record_call(_case(session, bc.campaign, code, bc), campaign=bc.campaign,
                               outcome=outcome, answers=answers, session=session,
                               actor=bc.evaluator)
    result = backchecks.results(bc.campaign, session=session)
    by = {w.worker: w for w in result.summary.workers}
    wa, wa2, wb = by[bc.worker_a.username], by[bc.worker_a2.username], by[bc.worker_b.username]
    assert (wa.completed, wa.drawn, wa.checked, wa.discrepant) == (20, 3, 3, 2)
    assert (wa2.completed, wa2.drawn, wa2.checked, wa2.discrepant) == (8, 3, 1, 0)
    assert (wb.checked, wb.discrepancy) == (0, None)
    assert_allclose([wa.backcheck_rate, wa2.backcheck_rate], [3 / 20, 1 / 8])
    # Wilson by hand: p = 2/3, n = 3, z = 1.959964;
    # bounds (2np + z² ∓ z·sqrt(4npq + z²)) / (2(n + z²)).
    z, n, p = 1.959963984540054, 3, 2 / 3
    root = z * sqrt(4 * n * p * (1 - p) + z * z)
    low, high = ((2 * n * p + z * z - root) / (2 * (n + z * z)),
                 (2 * n * p + z * z + root) / (2 * (n + z * z)))
    assert_allclose([wa.discrepancy.estimate, wa.discrepancy.low, wa.discrepancy.high],
                    [2 / 3, low, high], rtol=1e-12)
    assert_allclose([low, high], [0.20766, 0.93851], atol=1e-5)
    assert wa.flagged and not wa2.flagged and not wb.flagged  # 0.208 > 0.10
    assert (result.summary.checked, result.summary.discrepant) == (4, 2)
    assert result.outcomes == {"reached": 4, "no_answer": 1, "": 4}


def test_a_reached_call_is_final_and_answers_are_checked(session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=1, session=session)
    row = backchecks.case_rows(draw, session=session)[0]
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backchecks.record_call(row.case, campaign=bc.campaign, outcome="reached",
                               answers={"overall_satisfaction": "7"}, session=session,
                               actor=bc.evaluator)
    assert (refused.value.reason, refused.value.item) == ("answer", "overall_satisfaction")
    backchecks.record_call(row.case, campaign=bc.campaign, outcome="busy", answers={},
                           session=session, actor=bc.evaluator)
    backchecks.record_call(row.case, campaign=bc.campaign, outcome="reached",
                           answers={"visited": "9"}, session=session, actor=bc.evaluator)
    assert (row.case.attempts, row.case.discrepant) == (2, None)  # nothing compared
    with pytest.raises(backchecks.BackcheckRefused, match="already_reached"):
        backchecks.record_call(row.case, campaign=bc.campaign, outcome="reached", answers={},
                               session=session, actor=bc.evaluator)


def test_only_an_evaluator_reveals_only_drawn_households_and_each_reveal_is_audited(
        session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    drawn_ids = {r.case.household_id for r in backchecks.case_rows(draw, session=session)}
    drawn = session.get(type(bc.households["PG00001"]), min(drawn_ids))
    other = next(h for h in bc.households.values() if h.id not in drawn_ids)
    key = TEST_SETTINGS["CONTACT_KEY"]
    bc.campaign.status = "closed"  # back-checks may follow fieldwork
    shown = contact_vault.reveal([drawn], user=bc.evaluator, campaign=bc.campaign,
                                 purpose="backcheck", secret=key, session=session)
    assert shown[drawn.id].phone == f"1390000{drawn.id:04d}"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.reveal")).one()
    assert (event.actor_id, event.object_id, event.reason) == (
        bc.evaluator.id, str(drawn.id), "backcheck")
    case = backchecks.case_for(bc.campaign, drawn.id, session=session)
    backchecks.record_call(case, campaign=bc.campaign, outcome="reached", answers={},
                           session=session, actor=bc.evaluator)
    for user, household, reason in ((bc.evaluator, other, "not_drawn"),
                                    (bc.evaluator, drawn, "done"),  # reached: no more calls
                                    (bc.worker_a, drawn, "role"),
                                    (make_user(session, Role.ADMIN), drawn, "role")):
        with pytest.raises(contact_vault.RevealRefused) as refused:
            contact_vault.reveal([household], user=user, campaign=bc.campaign,
                                 purpose="backcheck", secret=key, session=session)
        assert refused.value.reason == reason


def test_settings_choose_items_present_in_every_questionnaire(session, bc):
    choices = dict(backchecks.item_choices(bc.campaign, session=session))
    assert {"visited", "overall_satisfaction", "household_size", "has_complained"} <= set(
        choices)
    assert "comments" not in choices and choices["visited"] == "是否有工作人员上门"
    backchecks.save_settings(bc.campaign, items=["visited", "has_complained"],
                             threshold=0.2, session=session)
    assert backchecks.campaign_items(bc.campaign) == ["visited", "has_complained"]
    for items in ([], ["visited"] * 2, ["a", "b"], ["visited", "age_band", "knows_policy",
                                                     "household_size"]):
        with pytest.raises(backchecks.BackcheckRefused, match="items"):
            backchecks.save_settings(bc.campaign, items=items, threshold=0.1, session=session)
    draw = backchecks.draw_backchecks(bc.campaign, seed=3, session=session)
    assert draw.items == ["visited", "has_complained"]
    with pytest.raises(backchecks.BackcheckRefused, match="items_fixed"):
        backchecks.save_settings(bc.campaign, items=["visited"], threshold=0.1,
                                 session=session)
    backchecks.save_settings(bc.campaign, items=["visited", "has_complained"],
                             threshold=0.3, session=session)  # the threshold may change
    assert bc.campaign.backcheck_threshold == 0.3


def test_the_command_line_draws_once_and_prints_the_results(session, bc, runner):
    slug = bc.campaign.slug
    none_yet = runner.invoke(args=["backcheck", "results", slug])
    assert none_yet.exit_code == 1 and "no back-check" in none_yet.output
    result = runner.invoke(args=["backcheck", "draw", slug, "--share", "0.1", "--min", "3",
                                 "--seed", "42"])
    assert result.exit_code == 0, result.output
    draw = backchecks.draw_of(bc.campaign, session=session)
    assert f"drew 9 paper forms for a back-check with seed 42 " \
           f"(household codes sha256 {draw.codes_sha256})" in result.output
    again = runner.invoke(args=["backcheck", "draw", slug, "--seed", "7"])
    # The reason in words (the pages' message, in the default locale), not its code.
    assert again.exit_code == 1 and "回访复核样本已经抽取" in again.output
    assert "already_drawn" not in again.output
    table = runner.invoke(args=["backcheck", "results", slug])
    assert table.exit_code == 0 and bc.worker_a.username in table.output
    assert "total: 9 drawn, 0 checked, 0 discrepant" in table.output
    assert runner.invoke(args=["backcheck", "draw", "nope", "--seed", "1"]).exit_code == 1
