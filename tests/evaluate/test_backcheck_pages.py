"""The back-check pages: draw, the call with its audited contact reveal, who may do what,
and that they read in Chinese."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, BackcheckCase, Role
from survey_app.services import backchecks
from tests.entry.conftest import UserClient
from tests.evaluate.backcheck_field import build_backcheck_field
from tests.factories import make_user
from tests.staff_crawl import english_words, reading_text


@pytest.fixture
def bc(session):
    return build_backcheck_field(session, seal_contacts=True)


def _base(bc) -> str:
    return f"/evaluate/{bc.campaign.slug}/backchecks"


def _draw(app, bc, seed=42) -> UserClient:
    evaluator = UserClient(app, bc.evaluator)
    reply = evaluator.post(_base(bc) + "/draw", data={"share": "10", "minimum": "3",
                                                      "seed": str(seed)})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]
    return evaluator


def test_an_evaluator_draws_calls_and_records_keyboard_typed_codes(app, session, bc):
    evaluator = UserClient(app, bc.evaluator)
    page = evaluator.get(_base(bc)).get_data(as_text=True)
    assert "抽取回访复核样本" in page and 'name="seed"' in page
    _draw(app, bc)
    listing = evaluator.get(_base(bc)).get_data(as_text=True)
    assert "尚未回访" in listing and "按工作人员" in listing
    draw = backchecks.draw_of(bc.campaign, session=session)
    rows = backchecks.case_rows(draw, session=session)
    first = rows[0]
    case_url = f"{_base(bc)}/{first.case.household_id}"
    case_page = evaluator.get(case_url)
    html = case_page.get_data(as_text=True)
    assert case_page.status_code == 200 and "autofocus" in html
    assert "13900" not in html  # masked until asked for
    typed = bc.typed[first.household_code]
    reply = evaluator.post(case_url, data={
        "outcome": "1", "item_visited": "1",
        "item_overall_satisfaction": typed["overall_satisfaction"],
        "item_household_size": typed["household_size"]})
    # On to the next household of the list that is not yet reached.
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"/backchecks/{rows[1].case.household_id}")
    session.expire_all()
    case = session.get(BackcheckCase, first.case.id)
    assert (case.outcome, case.discrepant, case.attempts) == ("reached", False, 1)
    assert case.checked_by_id == bc.evaluator.id


def test_the_contact_is_shown_only_on_post_and_audited(app, session, bc):
    evaluator = _draw(app, bc)
    draw = backchecks.draw_of(bc.campaign, session=session)
    household_id = backchecks.case_rows(draw, session=session)[0].case.household_id
    reply = evaluator.post(f"{_base(bc)}/{household_id}/contact")
    assert reply.status_code == 200
    assert f"1390000{household_id:04d}" in reply.get_data(as_text=True)
    assert reply.headers["Cache-Control"] == "no-store"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.reveal")).one()
    assert (event.actor_id, event.reason) == (bc.evaluator.id, "backcheck")
    # An administrator sees the masked page, without the reveal, and may not reveal.
    admin = UserClient(app, make_user(session, Role.ADMIN))
    masked = admin.get(f"{_base(bc)}/{household_id}").get_data(as_text=True)
    assert "13900" not in masked and "/contact" not in masked
    assert admin.post(f"{_base(bc)}/{household_id}/contact").status_code == 403
    # A household outside the draw is not found.
    drawn = {r.case.household_id for r in backchecks.case_rows(draw, session=session)}
    other = next(h.id for h in bc.households.values() if h.id not in drawn)
    assert evaluator.post(f"{_base(bc)}/{other}/contact").status_code == 404
    assert evaluator.get(f"{_base(bc)}/{other}").status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    ({"outcome": "7"}, "请输入回访结果的编号"),
    ({"outcome": "1", "item_overall_satisfaction": "6"}, "不是该题的选项代码"),
])
def test_a_wrong_code_is_shown_again_with_its_reason(app, session, bc, data, message):
    evaluator = _draw(app, bc)
    draw = backchecks.draw_of(bc.campaign, session=session)
    household_id = backchecks.case_rows(draw, session=session)[0].case.household_id
    reply = evaluator.post(f"{_base(bc)}/{household_id}", data=data)
    assert reply.status_code == 400 and message in reply.get_data(as_text=True)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "backcheck.call")
                        ).first() is None


def test_workers_may_not_open_back_checks(app, bc):
    worker = UserClient(app, bc.worker_a)
    assert worker.get(_base(bc)).status_code == 403
    assert worker.post(_base(bc) + "/draw", data={"seed": "1"}).status_code == 403


def test_settings_are_saved_and_a_second_draw_is_refused(app, session, bc):
    evaluator = UserClient(app, bc.evaluator)
    reply = evaluator.post(_base(bc) + "/settings", data={
        "items": ["visited", "has_complained"], "threshold": "15"})
    assert reply.status_code == 302
    assert (bc.campaign.backcheck_items, bc.campaign.backcheck_threshold) == (
        ["visited", "has_complained"], 0.15)
    too_many = evaluator.post(_base(bc) + "/settings", data={
        "items": ["visited", "has_complained", "age_band", "knows_policy"], "threshold": "15"})
    assert too_many.status_code == 400 and "请选择1至3道题目" in too_many.get_data(as_text=True)
    _draw(app, bc)
    again = evaluator.post(_base(bc) + "/draw", data={"share": "10", "minimum": "3",
                                                      "seed": "7"}, follow_redirects=True)
    assert "已经抽取" in again.get_data(as_text=True)


def test_the_back_check_pages_read_in_chinese(app, session, bc):
    evaluator = _draw(app, bc)
    draw = backchecks.draw_of(bc.campaign, session=session)
    rows = backchecks.case_rows(draw, session=session)
    backchecks.record_call(rows[0].case, campaign=bc.campaign, outcome="reached",
                           answers={"visited": "2"}, session=session, actor=bc.evaluator)
    backchecks.record_call(rows[1].case, campaign=bc.campaign, outcome="no_answer",
                           answers={}, session=session, actor=bc.evaluator)
    usernames = {u.username for u in (bc.worker_a, bc.worker_a2, bc.worker_b, bc.evaluator)}
    pages = [_base(bc), f"{_base(bc)}/{rows[0].case.household_id}",
             f"{_base(bc)}/{rows[1].case.household_id}"]
    for url in pages:
        text = reading_text(evaluator.get(url).get_data(as_text=True))
        assert not english_words(text, usernames | {bc.campaign.slug}), (url, text)
    # A reached case shows what the form says beside what the household said.
    reached = evaluator.get(f"{_base(bc)}/{rows[0].case.household_id}").get_data(as_text=True)
    typed = bc.typed[rows[0].household_code]
    assert "回答与纸质问卷不一致" in reached and "2 否" not in reached  # visited: 否
    assert f"<td>{typed['household_size']}</td><td>—</td><td>不作比较</td>" in reached
    assert "<td>否</td><td><strong>不一致</strong></td>" in reached
    revealed = evaluator.post(f"{_base(bc)}/{rows[1].case.household_id}/contact")
    assert not english_words(reading_text(revealed.get_data(as_text=True)), usernames)
