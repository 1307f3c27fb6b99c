"""Blind double entry, reconciliation and single entry, through the HTTP client."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from survey_app.models import (
    AuditEvent,
    Household,
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    Reconciliation,
    Response,
    ResponseStatus,
    Role,
    User,
)
from survey_app.services import paper_entry, progress
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import answer_values
from tests.entry.conftest import UserClient, build_field, form_data, typed_answers
from tests.factories import make_user

SEEDED = {3: "benefit_standard", 7: "household_size", 12: "overall_satisfaction",
          20: "age_band", 27: "staff_attitude"}


def _questionnaire(session, world, household):
    return questionnaire_of(version_for_group(world.campaign, household.household_group,
                                              session=session))


def _client(app, user):
    return UserClient(app, user)


def _enter(client, world, household, typed):
    return client.post(f"/entry/{world.campaign.slug}/households/{household.id}/enter",
                       data=form_data(typed))


def _altered(questionnaire, typed, qid):
    question = questionnaire.question(qid)
    if question.type == "integer":
        return str(int(typed[qid]) % 6 + 1)
    codes = [o.code for o in (questionnaire.scale.options() if question.type == "rating"
                              else question.options)]
    return next(code for code in codes if code != typed[qid])


def _complete_count(session, world) -> int:
    return session.exec(select(func.count()).select_from(Response).where(
        Response.campaign_id == world.campaign.id,
        Response.status == ResponseStatus.COMPLETE)).one()


@pytest.mark.slow
def test_thirty_forms_with_five_discrepancies(app, session, world):
    first, second = _client(app, world.worker_a), _client(app, world.worker_a2)
    expected = {}
    originals = {}
    for index, household in enumerate(world.households_a):
        questionnaire = _questionnaire(session, world, household)
        typed = typed_answers(questionnaire, seed=index)
        originals[household.id] = typed
        assert _enter(first, world, household, typed).status_code == 302
        retyped = dict(typed)
        if index in SEEDED:
            qid = SEEDED[index]
            retyped[qid] = _altered(questionnaire, typed, qid)
            expected[household.id] = {qid: (typed[qid], retyped[qid])}
        # The second typist is blind: the entry screen shows no value of the first entry.
        page = second.get(f"/entry/{world.campaign.slug}/households/{household.id}/enter")
        assert 'value="' + typed["age_band"] + '"' not in page.get_data(as_text=True)
        assert _enter(second, world, household, retyped).status_code == 302

    assert _complete_count(session, world) == 30 - 5  # conflicts do not count yet
    conflicts = session.exec(select(PaperForm).where(
        PaperForm.campaign_id == world.campaign.id,
        PaperForm.status == PaperFormStatus.CONFLICT)).all()
    found = {form.household_id: {d.question.id: (d.first, d.second)
                                 for d in paper_entry.disagreements(form, session=session)}
             for form in conflicts}
    assert found == expected

    reviewer = _client(app, world.worker_a3)
    for form in conflicts:
        page = reviewer.get(f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile")
        html = page.get_data(as_text=True)
        (qid,) = expected[form.household_id]
        assert html.count('class="disagreement') == 1 and f'name="q_{qid}"' in html
        paper_value = originals[form.household_id][qid]  # the paper says what round 1 typed
        response = reviewer.post(f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile",
                                 data={f"q_{qid}": paper_value, "reason": "checked the paper"})
        assert response.status_code == 302

    assert _complete_count(session, world) == 30
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 5
    for household in world.households_a:
        (stored,) = session.exec(select(Response).where(
            Response.household_id == household.id)).all()
        assert stored.mode == "paper" and stored.instance_id.startswith("paper:")
        values = answer_values(stored, session=session)
        assert {k: paper_entry.display_value(v) for k, v in values.items()} == \
            originals[household.id]
    rows, total = progress.field_progress(world.campaign, world.admin, session=session)
    assert total.counts["completed_paper"] == 30
    events = session.exec(select(AuditEvent.action, AuditEvent.actor_id)).all()
    assert events.count(("paper_form.reconcile", world.worker_a3.id)) == 5
    assert sum(1 for action, _ in events if action == "paper_entry.create") == 60


def test_entrants_cannot_reconcile_their_own_form(app, session, world):
    household = world.households_a[0]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=1)
    _enter(_client(app, world.worker_a), world, household, typed)
    _enter(_client(app, world.worker_a2), world, household,
           {**typed, "benefit_standard": _altered(questionnaire, typed, "benefit_standard")})
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.CONFLICT
    typist = _client(app, world.worker_a)
    response = typist.post(f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile",
                           data={"q_benefit_standard": "5", "reason": "mine"})
    assert response.status_code == 200
    assert "another reviewer" in typist.get(
        f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile?lang=en").get_data(as_text=True)
    assert session.get(PaperForm, form.id).status == PaperFormStatus.CONFLICT
    # An admin may; a blank reason is refused and nothing is written.
    admin = _client(app, world.admin)
    url = f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile"
    assert admin.post(url, data={"q_benefit_standard": "5", "reason": ""}).status_code == 200
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 0
    assert admin.post(url, data={"q_benefit_standard": "5", "reason": "paper"}).status_code == 302
    assert session.get(PaperForm, form.id).status == PaperFormStatus.VERIFIED


def test_the_second_entry_must_come_from_another_person(app, session, world):
    household = world.households_a[0]
    typed = typed_answers(_questionnaire(session, world, household), seed=5)
    client = _client(app, world.worker_a)
    assert _enter(client, world, household, typed).status_code == 302
    again = _enter(client, world, household, typed)
    assert again.status_code == 200
    assert "第二遍必须由另一位工作人员录入" in again.get_data(as_text=True)
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.AWAITING_SECOND
    assert session.exec(select(func.count()).select_from(PaperEntry).where(
        PaperEntry.paper_form_id == form.id)).one() == 1
    assert _enter(_client(app, world.worker_a2), world, household, typed).status_code == 302
    assert session.get(PaperForm, form.id).status == PaperFormStatus.VERIFIED


def test_a_form_typed_twice_by_one_person_never_counts_as_agreement(session, world):
    # Such forms exist from before the rule: the quality page lists them apart.
    household = world.households_a[0]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=6)
    paper_entry.enter_paper_form(session=session, campaign=world.campaign, household=household,
                                 typed=typed, worker=world.worker_a)
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    first = session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id)).one()
    session.add(PaperEntry(paper_form_id=form.id, entry_round=2,
                           entered_by_id=world.worker_a.id, answers=first.answers,
                           payload_hash=first.payload_hash))
    session.flush()
    quality = paper_entry.entry_quality(world.campaign, session=session)
    (stats,) = quality.workers
    assert (stats.label, stats.same_worker, stats.forms_compared, stats.form_agreement) == \
        (world.worker_a.username, 1, 0, None)


def test_an_evaluator_who_keyed_neither_entry_reconciles(app, session, world):
    household = world.households_a[1]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=7)
    paper_entry.enter_paper_form(session=session, campaign=world.campaign, household=household,
                                 typed=typed, worker=world.worker_a)
    rating = next(q.id for q in questionnaire.questions() if q.type == "rating")
    other = {**typed, rating: "1" if typed[rating] != "1" else "2"}
    outcome = paper_entry.enter_paper_form(session=session, campaign=world.campaign,
                                           household=household, typed=other,
                                           worker=world.worker_a2)
    assert outcome.status == PaperFormStatus.CONFLICT
    evaluator = make_user(session, Role.EVALUATOR)
    form = outcome.paper_form
    assert paper_entry.may_reconcile(form, evaluator, session=session)
    assert not paper_entry.may_reconcile(form, world.worker_a, session=session)
    assert paper_entry.may_reconcile(form, world.worker_a3, session=session)
    assert not paper_entry.may_reconcile(form, world.worker_b, session=session)
    client = _client(app, evaluator)
    url = f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile"
    assert client.get(f"/entry/{world.campaign.slug}/forms").status_code == 200
    done = client.post(url, data={f"q_{rating}": typed[rating], "reason": "checked the paper"})
    assert done.status_code == 302
    assert session.get(PaperForm, form.id).status == PaperFormStatus.VERIFIED


def test_single_entry_campaign_counts_directly(app, session):
    world = build_field(session, double_entry=False, count_a=2)
    client = _client(app, world.worker_a)
    for seed, household in enumerate(world.households_a):
        typed = typed_answers(_questionnaire(session, world, household), seed=seed)
        assert _enter(client, world, household, typed).status_code == 302
    assert _complete_count(session, world) == 2
    forms = session.exec(select(PaperForm).where(
        PaperForm.campaign_id == world.campaign.id)).all()
    assert {f.status for f in forms} == {PaperFormStatus.VERIFIED}
    assert session.exec(select(func.count()).select_from(PaperEntry)).one() == 2
    assert {h.disposition for h in session.exec(select(Household).where(
        Household.community_id == world.community_a.id)).all()} == {"completed"}
    # A third typing of a verified form is refused, not a second response.
    again = _enter(client, world, world.households_a[0],
                   typed_answers(_questionnaire(session, world, world.households_a[0]), 0))
    assert again.status_code == 200 and _complete_count(session, world) == 2


def _web_response(session, world, household):
    from survey_app.services.responses import store_response
    version = version_for_group(world.campaign, household.household_group, session=session)
    from questionnaires import validate_answers
    values = validate_answers(questionnaire_of(version),
                              typed_answers(questionnaire_of(version), 99)).values
    response, _ = store_response(session=session, campaign=world.campaign, version=version,
                                 group=household.household_group, mode="web_token",
                                 instance_id=f"web-{household.id}", values=values,
                                 household=household)
    return response


@pytest.mark.parametrize("rule", ["keep_first", "keep_web"])
def test_web_duplicate_is_refused_under_keep_rules(app, session, rule):
    world = build_field(session, duplicate_rule=rule, count_a=1)
    household = world.households_a[0]
    _web_response(session, world, household)
    client = _client(app, world.worker_a)
    client.get("/entry/?lang=en")
    typed = typed_answers(_questionnaire(session, world, household), seed=1)
    page = _enter(client, world, household, typed)
    assert page.status_code == 200
    expected = "keeps that response" if rule == "keep_web" else "keeps the first response"
    assert expected in page.get_data(as_text=True)
    assert 'value="' + typed["household_size"] + '"' in page.get_data(as_text=True)
    assert session.exec(select(PaperForm)).all() == []


def test_web_duplicate_is_held_for_an_admin_under_ask_admin(app, session):
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    household = world.households_a[0]
    web = _web_response(session, world, household)
    typed = typed_answers(_questionnaire(session, world, household), seed=1)
    assert _enter(_client(app, world.worker_a), world, household, typed).status_code == 302
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.HELD
    admin = _client(app, world.admin)
    url = f"/entry/{world.campaign.slug}/forms/{form.id}/decide"
    assert _client(app, world.worker_a).get(url).status_code == 403
    assert "核对后的答案" not in admin.get(url).get_data(as_text=True)  # nothing reconciled
    assert admin.post(url, data={"decision": "keep_paper", "reason": "paper is later and signed"}
                      ).status_code == 302
    assert session.get(Response, web.id).status == ResponseStatus.SUPERSEDED
    assert session.get(PaperForm, form.id).status == PaperFormStatus.AWAITING_SECOND
    assert _enter(_client(app, world.worker_a2), world, household, typed).status_code == 302
    assert session.get(PaperForm, form.id).status == PaperFormStatus.VERIFIED
    assert _complete_count(session, world) == 1


@pytest.mark.parametrize("rule", ["keep_first", "keep_web", "ask_admin"])
def test_a_conflict_reconciled_after_a_web_answer_adds_no_second_response(app, session, rule):
    """The household answered on the web while its two paper entries waited for
    reconciliation (attack3 finding: the reconciled paper response counted as well)."""
    world = build_field(session, duplicate_rule=rule, count_a=1)
    household = world.households_a[0]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=1)
    _enter(_client(app, world.worker_a), world, household, typed)
    _enter(_client(app, world.worker_a2), world, household,
           {**typed, "benefit_standard": _altered(questionnaire, typed, "benefit_standard")})
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.CONFLICT
    web = _web_response(session, world, household)

    reviewer = _client(app, world.worker_a3)
    page = reviewer.post(f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile?lang=en",
                         data={"q_benefit_standard": "5", "reason": "checked the paper"})
    assert _complete_count(session, world) == 1
    assert session.get(Response, web.id).status == ResponseStatus.COMPLETE
    if rule == "ask_admin":  # the administrator decides, as for a form keyed after the web
        assert page.status_code == 302
        assert session.get(PaperForm, form.id).status == PaperFormStatus.HELD
    else:
        assert page.status_code == 200
        assert "not entered" in page.get_data(as_text=True)
        assert session.get(PaperForm, form.id).status == PaperFormStatus.CONFLICT
        assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 0



def test_a_form_reconciled_meanwhile_is_not_reconciled_again(session):
    """Two reviewers reconcile one CONFLICT form at once: each page holds the form as it was
    read (in conflict); the later one, once the household's row lock is its, must see it
    reconciled instead of storing a second merge (a second set of decisions and events, or
    a server error when it chose other values)."""
    world = build_field(session, count_a=1)
    household = world.households_a[0]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=1)
    altered = _altered(questionnaire, typed, "benefit_standard")
    for worker, values in ((world.worker_a, typed),
                           (world.worker_a2, {**typed, "benefit_standard": altered})):
        paper_entry.enter_paper_form(session=session, campaign=world.campaign,
                                     household=household, typed=values, worker=worker)
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.CONFLICT  # as the reviewers' pages read it
    evaluator = make_user(session, Role.EVALUATOR)
    with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as other:
        paper_entry.reconcile(session=other, form=other.get(PaperForm, form.id),
                              chosen={"benefit_standard": typed["benefit_standard"]},
                              reason="checked the paper", reviewer=other.get(User, evaluator.id))
        other.commit()  # the first reviewer's request, committed before the second's lock

    with pytest.raises(paper_entry.ReconciliationRefused) as refused:
        paper_entry.reconcile(session=session, form=form, chosen={"benefit_standard": altered},
                              reason="read it differently", reviewer=world.worker_a3)
    assert refused.value.reason == "not_in_conflict"
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 1
    assert _complete_count(session, world) == 1


@pytest.mark.parametrize("later", ["keep_web", "keep_paper"])
def test_a_held_form_decided_meanwhile_is_not_decided_again(session, later):
    """Two administrators decide one HELD form at once (each page read it held): the later
    decision, once the household's row lock is its, is refused instead of deleting entries
    already deleted or superseding the web answer again (a server error either way)."""
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    household = world.households_a[0]
    web = _web_response(session, world, household)
    typed = typed_answers(_questionnaire(session, world, household), seed=1)
    paper_entry.enter_paper_form(session=session, campaign=world.campaign,
                                 household=household, typed=typed, worker=world.worker_a)
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    assert form.status == PaperFormStatus.HELD  # as both administrators' pages read it
    second_admin = make_user(session, Role.ADMIN)
    with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as other:
        paper_entry.decide_held(session=other, form=other.get(PaperForm, form.id),
                                decision="keep_web", reason="the web answer is the resident's",
                                admin=other.get(User, second_admin.id))
        other.commit()  # the first decision, committed before the second's lock

    with pytest.raises(paper_entry.ReconciliationRefused) as refused:
        paper_entry.decide_held(session=session, form=form, decision=later,
                                reason="decided too", admin=world.admin)
    assert refused.value.reason == "not_in_conflict"
    assert session.get(Response, web.id).status == ResponseStatus.COMPLETE
    assert _complete_count(session, world) == 1


def _conflict_reconciled_while_answered_on_the_web(session, world):
    """A CONFLICT form whose household answers on the web before its reconciliation (rule
    ask_admin): the reconciliation holds it. Returns (form, web response, reviewer, the
    value the entries disagreed on and the one the reviewer chose)."""
    household = world.households_a[0]
    questionnaire = _questionnaire(session, world, household)
    typed = typed_answers(questionnaire, seed=1)
    altered = _altered(questionnaire, typed, "benefit_standard")
    for worker, values in ((world.worker_a, typed),
                           (world.worker_a2, {**typed, "benefit_standard": altered})):
        paper_entry.enter_paper_form(session=session, campaign=world.campaign,
                                     household=household, typed=values, worker=worker)
    form = session.exec(select(PaperForm).where(PaperForm.household_id == household.id)).one()
    web = _web_response(session, world, household)
    assert paper_entry.reconcile(session=session, form=form, chosen={"benefit_standard": altered},
                                 reason="checked the paper", reviewer=world.worker_a3) is None
    assert session.get(PaperForm, form.id).status == PaperFormStatus.HELD
    return form, web, world.worker_a3, altered


def test_keep_paper_on_a_reconciled_held_form_counts_the_reconciled_answers(session):
    """The administrator keeps the paper of a form held by its reconciliation: the reviewer's
    values count at once, instead of the form going back to CONFLICT for a second
    reconciliation of what was already reconciled."""
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    form, web, reviewer, chosen = _conflict_reconciled_while_answered_on_the_web(session, world)
    response = paper_entry.decide_held(session=session, form=form, decision="keep_paper",
                                       reason="paper is later and signed", admin=world.admin)
    assert response is not None
    assert session.get(PaperForm, form.id).status == PaperFormStatus.VERIFIED
    assert session.get(PaperForm, form.id).response_id == response.id
    assert session.get(Response, web.id).status == ResponseStatus.SUPERSEDED
    assert _complete_count(session, world) == 1
    values = answer_values(response, session=session)
    first = session.exec(select(PaperEntry).where(PaperEntry.paper_form_id == form.id,
                                                  PaperEntry.entry_round == 1)).one().answers
    assert str(values["benefit_standard"]) == chosen
    assert {k: v for k, v in values.items() if k != "benefit_standard"} == {
        k: v for k, v in first.items() if k != "benefit_standard"}
    assert response.entered_by_id == reviewer.id  # whose values they are (backchecks' rule)
    decided = session.exec(select(AuditEvent).where(
        AuditEvent.action == "paper_form.decide_held")).one()
    assert decided.actor_id == world.admin.id
    assert decided.details["reconciled_by_id"] == reviewer.id
    assert decided.details["reconciled_fields"]["benefit_standard"]["chosen"] == chosen
    assert decided.details["response_id"] == response.id


def test_the_decision_page_says_the_held_form_was_already_reconciled_and_by_whom(app, session):
    """The administrator deciding a held form sees that keep_paper counts a reviewer's
    reconciled answers (and whose); a form held straight from entry says nothing of it."""
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    form, _, reviewer, _ = _conflict_reconciled_while_answered_on_the_web(session, world)
    url = f"/entry/{world.campaign.slug}/forms/{form.id}/decide"
    page = _client(app, world.admin).get(url).get_data(as_text=True)
    assert f"{reviewer.username}已于" in page and "核对了1处" in page
    assert "按核对后的答案计入统计" in page


def test_keep_web_on_a_reconciled_held_form_discards_the_reconciliation(session):
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    form, web, _, _ = _conflict_reconciled_while_answered_on_the_web(session, world)
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 1
    assert paper_entry.decide_held(session=session, form=form, decision="keep_web",
                                   reason="the web answer is the resident's",
                                   admin=world.admin) is None
    assert session.exec(select(PaperForm)).all() == []
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 0
    assert session.get(Response, web.id).status == ResponseStatus.COMPLETE
    assert _complete_count(session, world) == 1


def test_reconciled_answers_that_no_longer_validate_send_the_held_form_back_to_conflict(session):
    """keep_paper validates the reconciled answers again; if they fail (here a stored choice
    outside the options, as after a change of the group's questionnaire), the form goes back
    to CONFLICT without them, as every held reconciled form did before, not a server error."""
    world = build_field(session, duplicate_rule="ask_admin", count_a=1)
    form, web, _, _ = _conflict_reconciled_while_answered_on_the_web(session, world)
    row = session.exec(select(Reconciliation)).one()
    row.chosen_value = "99"
    session.add(row)
    session.flush()
    assert paper_entry.decide_held(session=session, form=form, decision="keep_paper",
                                   reason="paper is later", admin=world.admin) is None
    assert session.get(PaperForm, form.id).status == PaperFormStatus.CONFLICT
    assert session.exec(select(func.count()).select_from(Reconciliation)).one() == 0
    assert session.get(Response, web.id).status == ResponseStatus.SUPERSEDED
    assert _complete_count(session, world) == 0
    decided = session.exec(select(AuditEvent).where(
        AuditEvent.action == "paper_form.decide_held")).one()
    assert "benefit_standard" in decided.details["reconciliation_invalid"]
    # ... and it can be reconciled again, now without a web twin.
    assert paper_entry.reconcile(session=session, form=form, chosen={"benefit_standard": "2"},
                                 reason="again", reviewer=world.admin) is not None
    assert _complete_count(session, world) == 1
