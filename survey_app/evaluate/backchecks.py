"""Back-checks: the evaluator draws a seeded sample of each worker's completed paper forms,
calls each drawn household (its contact shown through the vault, audited) and records the
outcome and the answers given again; the page shows per worker the discrepancy rate.

Clear contact details are only in the answer to a POST (``no-store``); every GET shows the
masked forms.
"""

from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from survey_app.evaluate import backcheck_forms as f
from survey_app.evaluate import bp
from survey_app.evaluate.routes import EVALUATORS, _campaign_or_404
from survey_app.extensions import db
from survey_app.models import Community, Household, Role
from survey_app.security import role_required
from survey_app.services import backcheck_topup, backchecks, contact_vault
from survey_app.services.paper_entry import check_digit, printed_code

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _item_choices(campaign) -> list[tuple[str, str]]:
    """The items that may be asked again, 是否有工作人员上门 in the page's language."""
    return [(code, f.visited_text() if code == backchecks.VISITED else text)
            for code, text in backchecks.item_choices(campaign, session=db.session,
                                                      locale=str(get_locale()))]


def _settings_form(campaign):
    form = f.BackcheckSettingsForm(formdata=None, data={
        "items": backchecks.campaign_items(campaign),
        "threshold": round(campaign.backcheck_threshold * 100, 2)})
    form.items.choices = _item_choices(campaign)
    return form


def _render_list(campaign, *, settings_form=None, draw_form=None, status=200):
    results = backchecks.results(campaign, session=db.session)
    rows = (backchecks.case_rows(results.draw, session=db.session) if results else [])
    labels = dict(_item_choices(campaign))
    page = render_template(
        "evaluate/backchecks.html", campaign=campaign, results=results, rows=rows,
        printed=lambda code: f"{code}-{check_digit(code)}",
        outcome_labels=f.outcome_labels(),
        asked="、".join(f"“{labels.get(i, i)}”" for i in results.draw.items) if results else "",
        settings_form=settings_form or _settings_form(campaign),
        to_replace=len(backcheck_topup.to_replace(results.draw, session=db.session))
        if results else 0, topup_form=f.BackcheckTopupForm(formdata=None),
        unreachable_attempts=backcheck_topup.MIN_ATTEMPTS,
        draw_form=draw_form or f.BackcheckDrawForm(formdata=None,
                                                   seed=secrets.randbelow(1_000_000)))
    return page, status


@bp.route("/<slug>/backchecks")
@role_required(*EVALUATORS)
def backcheck_list(slug: str):
    return _render_list(_campaign_or_404(slug))


@bp.route("/<slug>/backchecks/settings", methods=["POST"])
@role_required(Role.EVALUATOR)
def backcheck_settings(slug: str):
    campaign = _campaign_or_404(slug)
    form = f.BackcheckSettingsForm()
    form.items.choices = _item_choices(campaign)
    if not form.validate_on_submit():
        return _render_list(campaign, settings_form=form, status=400)
    try:
        with db.write() as session:
            backchecks.save_settings(campaign, items=form.items.data,
                                     threshold=form.threshold.data / 100, session=session,
                                     actor=current_user)
    except backchecks.BackcheckRefused as refused:
        flash(f.refusal_message(refused.reason), "error")
        return _render_list(campaign, settings_form=form, status=400)
    flash(_("Back-check settings saved."), "success")
    return redirect(url_for(".backcheck_list", slug=slug))


@bp.route("/<slug>/backchecks/draw", methods=["POST"])
@role_required(Role.EVALUATOR)
def backcheck_draw(slug: str):
    campaign = _campaign_or_404(slug)
    form = f.BackcheckDrawForm()
    if not form.validate_on_submit():
        return _render_list(campaign, draw_form=form, status=400)
    try:
        with db.write() as session:
            backchecks.draw_backchecks(campaign, seed=form.seed.data,
                                       share=form.share.data / 100, minimum=form.minimum.data,
                                       session=session, actor=current_user)
    except backchecks.BackcheckRefused as refused:
        flash(f.refusal_message(refused.reason), "error")
        return redirect(url_for(".backcheck_list", slug=slug))
    flash(_("Back-check sample drawn with seed %(seed)s.", seed=form.seed.data), "success")
    return redirect(url_for(".backcheck_list", slug=slug))


@bp.route("/<slug>/backchecks/topup", methods=["POST"])
@role_required(Role.EVALUATOR)
def backcheck_topup_draw(slug: str):
    campaign = _campaign_or_404(slug)
    if not f.BackcheckTopupForm().validate_on_submit():
        abort(400)  # only the CSRF token can fail
    try:
        with db.write() as session:
            topup = backcheck_topup.topup_backchecks(campaign, session=session,
                                                     actor=current_user)
            counts = {"round": topup.round_number, "drawn": topup.drawn,
                      "replaced": topup.replaced}
    except backchecks.BackcheckRefused as refused:
        flash(f.refusal_message(refused.reason), "error")
        return redirect(url_for(".backcheck_list", slug=slug))
    flash(_("Top-up round %(round)s: %(drawn)s replacements drawn for %(replaced)s "
            "unreachable households.", **counts), "success")
    return redirect(url_for(".backcheck_list", slug=slug))


def _case(campaign, household_id: int):
    case = backchecks.case_for(campaign, household_id, session=db.session)
    if case is None:
        abort(404)
    return case


def _render_case(campaign, case, *, form=None, contact=None, problem=None, status=200):
    household = db.session.get(Household, case.household_id)
    draw = backchecks.draw_of(campaign, session=db.session)
    questionnaire, items = backchecks.case_items(campaign, draw, household, session=db.session)
    form = form or f.call_form_class([i.id for i in items])(
        formdata=None, data={"attempt": case.attempts})
    page = render_template(
        "evaluate/backcheck_case.html", campaign=campaign, case=case, household=household,
        community=db.session.get(Community, household.community_id),
        printed=printed_code(household), questionnaire=questionnaire, items=items,
        locale=str(get_locale() or "zh"), form=form, outcomes=f.outcome_numbers(),
        outcome_labels=f.outcome_labels(), visited_text=f.visited_text(),
        visited_options=f.visited_options(), item_prefix=f.ITEM_PREFIX,
        reveal_form=f.BackcheckRevealForm(formdata=None), contact=contact, problem=problem,
        contact_state=contact_vault.contact_state(household),
        compared=backchecks.comparison(case, campaign=campaign, session=db.session)
        if case.outcome == backchecks.REACHED else [],
        may_call=current_user.role == Role.EVALUATOR)
    return page, status, NO_STORE if contact else {}


@bp.route("/<slug>/backchecks/<int:household_id>")
@role_required(*EVALUATORS)
def backcheck_case(slug: str, household_id: int):
    campaign = _campaign_or_404(slug)
    return _render_case(campaign, _case(campaign, household_id))


@bp.route("/<slug>/backchecks/<int:household_id>/contact", methods=["POST"])
@role_required(Role.EVALUATOR)
def backcheck_contact(slug: str, household_id: int):
    """The household's phone and address for the call; one audit event."""
    campaign = _campaign_or_404(slug)
    case = _case(campaign, household_id)
    if not f.BackcheckRevealForm().validate_on_submit():
        abort(400)  # only the CSRF token can fail: the purpose is fixed
    household = db.session.get(Household, household_id)
    try:
        with db.write() as session:
            shown = contact_vault.reveal(
                [household], user=current_user, campaign=campaign,
                purpose=contact_vault.BACKCHECK_PURPOSE,
                secret=current_app.config["CONTACT_KEY"], session=session)
    except contact_vault.RevealRefused as refused:
        return _render_case(campaign, case, problem=f.refusal_message(refused.reason),
                            status=403)
    return _render_case(campaign, case, contact=shown[household.id])


@bp.route("/<slug>/backchecks/<int:household_id>", methods=["POST"])
@role_required(Role.EVALUATOR)
def backcheck_call(slug: str, household_id: int):
    campaign = _campaign_or_404(slug)
    case = _case(campaign, household_id)
    draw = backchecks.draw_of(campaign, session=db.session)
    form = f.call_form_class(draw.items)()
    outcome = f.typed_outcome(form) if form.validate_on_submit() else None
    if outcome is None:
        if not form.errors:
            form.outcome.errors = [f.refusal_message("outcome")]
        return _render_case(campaign, case, form=form, status=400)
    try:
        with db.write() as session:
            backchecks.record_call(case, campaign=campaign,
                                   outcome=outcome, answers=f.typed_items(form, draw.items),
                                   session=session, actor=current_user,
                                   seen_attempts=f.seen_attempts(form))
    except backchecks.BackcheckRefused as refused:
        label = dict(_item_choices(campaign)).get(refused.item or "", "")
        if refused.reason == "call_changed":  # shown the calls now: the next post counts
            form.attempt.data = str(case.attempts)
        return _render_case(campaign, case, form=form, status=400,
                            problem=f.refusal_message(refused.reason, label))
    flash(_("Call recorded: %(outcome)s.", outcome=f.outcome_labels()[outcome]), "success")
    household = db.session.get(Household, household_id)
    following = backchecks.next_open_case(draw, household.household_code, session=db.session)
    if following is None:
        return redirect(url_for(".backcheck_list", slug=slug))
    return redirect(url_for(".backcheck_case", slug=slug,
                            household_id=following.case.household_id))
