"""Back-check top-ups: replacements for unreachable households from the same worker's forms,
reproducible from the draw's seed and the round, kept and audited."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, BackcheckCase, BackcheckTopup
from survey_app.services import backcheck_topup, backchecks
from tests.evaluate.backcheck_field import build_backcheck_field


@pytest.fixture
def bc(session):
    return build_backcheck_field(session, seal_contacts=True)


def _cases(session, draw):
    return session.exec(select(BackcheckCase).where(BackcheckCase.draw_id == draw.id)
                        .order_by(BackcheckCase.id)).all()


def _call(session, bc, case, outcome, times=1):
    for _ in range(times):
        backchecks.record_call(case, campaign=bc.campaign, outcome=outcome, answers={},
                               session=session, actor=bc.evaluator)


def test_unreachable_households_are_replaced_from_the_same_workers_forms(session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    first = _cases(session, draw)
    by_worker = {}
    for case in first:
        by_worker.setdefault(case.worker_id, []).append(case)
    wrong, busy, tried_twice = by_worker[bc.worker_a.id]
    _call(session, bc, wrong, "wrong_number")
    _call(session, bc, busy, "busy", times=3)
    _call(session, bc, tried_twice, "no_answer", times=2)  # may still be reached
    with pytest.raises(backchecks.BackcheckRefused):
        backchecks.draw_backchecks(bc.campaign, seed=7, session=session)

    topup = backcheck_topup.topup_backchecks(bc.campaign, session=session,
                                             actor=bc.evaluator)
    assert (topup.round_number, topup.replaced, topup.drawn) == (1, 2, 2)
    added = [c for c in _cases(session, draw) if c.topup_round == 1]
    assert {c.worker_id for c in added} == {bc.worker_a.id}
    assert not {c.household_id for c in added} & {c.household_id for c in first}
    assert (wrong.replaced_in_round, busy.replaced_in_round,
            tried_twice.replaced_in_round) == (1, 1, None)

    # Reproducible: the same seed and round over the worker's undrawn forms, sorted.
    forms = backchecks.completed_forms(bc.campaign, session=session)
    pool = sorted(f.household_code for f in forms if f.worker_id == bc.worker_a.id
                  and f.household_id not in {c.household_id for c in first})
    expected = sorted(random.Random(f"42:{bc.worker_a.username}:top-up 1").sample(pool, 2))
    codes = {f.household_id: f.household_code for f in forms}
    assert sorted(codes[c.household_id] for c in added) == expected

    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "backcheck.topup")).one()
    assert event.details["round"] == 1 and event.details["seed"] == 42
    assert event.details["codes_sha256"] == topup.codes_sha256
    assert event.details["needed"] == {bc.worker_a.username: 2}

    # Nothing left to replace: refused; a new unreachable case makes round 2.
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backcheck_topup.topup_backchecks(bc.campaign, session=session)
    assert refused.value.reason == "nothing_to_replace"
    _call(session, bc, added[0], "refused")
    second = backcheck_topup.topup_backchecks(bc.campaign, session=session)
    assert second.round_number == 2
    assert len(session.exec(select(BackcheckTopup)).all()) == 2


def test_a_worker_without_forms_left_gets_what_there_is(session, bc):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    # worker_b has 3 forms, all drawn: nothing to replace them with.
    for case in _cases(session, draw):
        if case.worker_id == bc.worker_b.id:
            _call(session, bc, case, "wrong_number")
    topup = backcheck_topup.topup_backchecks(bc.campaign, session=session)
    assert (topup.replaced, topup.drawn) == (3, 0)


def test_no_topup_without_a_draw(session, bc):
    with pytest.raises(backchecks.BackcheckRefused) as refused:
        backcheck_topup.topup_backchecks(bc.campaign, session=session)
    assert refused.value.reason == "no_draw"


def test_the_command_line_tops_up(session, bc, runner):
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    _call(session, bc, _cases(session, draw)[0], "wrong_number")
    result = runner.invoke(args=["backcheck", "topup", bc.campaign.slug])
    assert result.exit_code == 0, result.output
    assert "round 1" in result.output and "1 replacement" in result.output


def test_api_and_export_show_results_with_pseudonyms_only(app, client, session, bc):
    import io

    from openpyxl import load_workbook

    from survey_app.models import Household
    from survey_app.services import api_tokens
    from tests.factories import login

    token = api_tokens.create_api_token(bc.evaluator, session=session)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/campaigns/{bc.campaign.slug}/backchecks"
    assert client.get(url, headers=headers).status_code == 404  # nothing drawn yet
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    _call(session, bc, _cases(session, draw)[0], "wrong_number")
    backcheck_topup.topup_backchecks(bc.campaign, session=session)
    response = client.get(url, headers=headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    doc = response.get_json()
    assert doc["seed"] == 42 and doc["codes_sha256"] == draw.codes_sha256
    assert [t["round_number"] for t in doc["topups"]] == [1]
    assert len(doc["cases"]) == 10 and doc["drawn"] == 10
    assert sum(c["topup_round"] == 1 for c in doc["cases"]) == 1
    assert sum(c["replaced_in_round"] == 1 for c in doc["cases"]) == 1
    assert {w["worker"] for w in doc["workers"]} == {
        bc.worker_a.username, bc.worker_a2.username, bc.worker_b.username}
    households = session.exec(select(Household).where(
        Household.campaign_id == bc.campaign.id)).all()
    text = response.get_data(as_text=True)
    assert {c["household"] for c in doc["cases"]} <= {h.pseudonym for h in households}
    assert not any(f"\"{h.household_code}\"" in text for h in households)

    login(client, bc.evaluator)
    export = client.get(f"/evaluate/{bc.campaign.slug}/export/backchecks")
    assert export.status_code == 200
    assert "backchecks.xlsx" in export.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["按工作人员", "回访样本"]
    rows = list(book["回访样本"].iter_rows(values_only=True))
    assert rows[0][0] == "住户化名" and len(rows) == 11
    assert {r[5] for r in rows[1:]} >= {"号码错误", "尚未回访"}
    cells = {str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
             for v in row if v is not None}
    assert not {h.household_code for h in households} & cells
    assert "是否标记" in cells


def test_the_page_offers_the_topup_once_a_household_is_unreachable(app, client, session, bc):
    from tests.factories import login

    login(client, bc.evaluator)
    page = f"/evaluate/{bc.campaign.slug}/backchecks"
    draw = backchecks.draw_backchecks(bc.campaign, seed=42, session=session)
    assert "无法联系的样本户" not in client.get(page).get_data(as_text=True)
    _call(session, bc, _cases(session, draw)[0], "refused")
    html = client.get(page).get_data(as_text=True)
    assert "有1户样本户无法联系" in html and "补抽替换样本" in html
    done = client.post(page + "/topup", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "第1轮补抽：为1户无法联系的样本户抽取了1户替换样本。" in text
    assert "已由第1轮补抽替换" in text and "第1轮补抽" in text
    again = client.post(page + "/topup", follow_redirects=True).get_data(as_text=True)
    assert "目前没有无法联系的样本户，无需补抽。" in again
