"""Community workers' screens: find a household, type its paper form, reconcile, progress.

Every household, paper form and response is looked up through the scoped service
functions: something outside the user's community is a 404, exactly like something that
does not exist.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from survey_app.entry import bp
from survey_app.entry import forms as f
from survey_app.entry.household_page import render_household
from survey_app.extensions import db
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Community,
    Household,
    HouseholdGroup,
    PaperForm,
    QuestionnaireVersion,
    Response,
    Role,
)
from survey_app.security import LARGEST_ROW_ID, role_required
from survey_app.services import (
    campaigns,
    paper_entry,
    progress,
    response_edits,
    score_cache,
    sms_effect,
    unit_scope,
    visits,
)
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import answer_values

STAFF = (Role.WORKER, Role.ADMIN)


def _campaign(slug: str) -> Campaign:
    campaign = campaigns.get_campaign(slug, session=db.session)
    # A draft is still being designed (roster, sample, questionnaires may change): workers
    # neither see it in their list nor reach it by its address.
    if campaign is None or (campaign.status == CampaignStatus.DRAFT
                            and current_user.role == Role.WORKER):
        abort(404)
    # Evaluators reach the quality and reconciliation pages: a unit-scoped one only for its
    # unit's campaigns, as on its own blueprint (another county's slug is 404).
    if not unit_scope.campaign_visible(current_user, campaign, session=db.session):
        abort(404)
    return campaign


def _household(campaign: Campaign, household_id: int):
    household = paper_entry.household_for(campaign, household_id, current_user,
                                          session=db.session)
    if household is None:
        abort(404)
    return household


def _paper_form(campaign: Campaign, form_id: int) -> PaperForm:
    form = paper_entry.paper_form_for(campaign, form_id, current_user, session=db.session)
    if form is None:
        abort(404)
    return form


def _communities() -> list[Community]:
    if current_user.role == Role.ADMIN:  # a county's admin: its county's communities only
        return unit_scope.visible_communities(current_user, session=db.session)
    return [c for c in [db.session.get(Community, current_user.community_id or -1)] if c]


def _community_filter() -> int | None:
    """Admins choose a community with ?community=<id>; workers always see their own."""
    if current_user.role != Role.ADMIN:
        return current_user.community_id
    chosen = request.args.get("community", type=int)
    # An id the database cannot hold is no community (0), not a database error.
    return chosen if chosen is None or 0 < chosen <= LARGEST_ROW_ID else 0


def _locale() -> str:
    return str(get_locale() or "zh")


@bp.route("/")
@role_required(*STAFF)
def index():
    community = None
    if current_user.community_id:
        community = db.session.get(Community, current_user.community_id)
    open_campaigns = [c for c in db.session.exec(select(Campaign).where(
        Campaign.status != CampaignStatus.DRAFT).order_by(Campaign.year.desc())).all()
        if unit_scope.campaign_visible(current_user, c, session=db.session)]
    return render_template("entry/index.html", community=community, campaigns=open_campaigns)


@bp.route("/<slug>/", methods=["GET", "POST"])
@role_required(*STAFF)
def campaign_home(slug: str):
    campaign = _campaign(slug)
    form = f.HouseholdFindForm()
    if form.validate_on_submit():
        try:
            household = paper_entry.find_household(campaign, form.code.data, current_user,
                                                   session=db.session)
        except paper_entry.PrintedCodeError as error:
            form.code.errors.append(f.code_error(error.reason))
        else:
            if household is None:
                form.code.errors.append(f.code_error("unknown"))
            else:
                return redirect(url_for(".enter", slug=slug, household_id=household.id,
                                        batch=form.batch.data or None))
    attention = paper_entry.forms_needing_attention(campaign, current_user, session=db.session)
    return render_template("entry/campaign.html", campaign=campaign, form=form,
                           attention=len(attention), groups=list(HouseholdGroup))


@bp.route("/<slug>/households")
@role_required(*STAFF)
def households(slug: str):
    campaign = _campaign(slug)
    community_id = _community_filter()
    query = paper_entry.scoped_households(campaign, current_user, community_id=community_id,
                                          sampled_only=request.args.get("all") is None)
    rows = db.session.exec(query.limit(2000)).all()
    forms = {pf.household_id: pf for pf in db.session.exec(select(PaperForm).where(
        PaperForm.campaign_id == campaign.id)).all()}
    return render_template("entry/households.html", campaign=campaign, households=rows,
                           forms=forms, communities=_communities(), community_id=community_id,
                           printed=paper_entry.printed_code, labels=f.disposition_labels(),
                           attempts=visits.household_visits([h.id for h in rows],
                                                            session=db.session))


@bp.route("/<slug>/households/<int:household_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def household(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    form = f.DispositionRecordForm(disposition=target.disposition)
    if form.validate_on_submit():
        try:
            with db.write() as session:
                progress.record_disposition(session=session, household=target,
                                            disposition=form.disposition.data,
                                            actor=current_user)
        except progress.DispositionRefused as error:
            form.disposition.errors = [f.refusal_message(error.reason)]
        else:
            flash(_("Outcome recorded."), "success")
            return redirect(url_for(".household", slug=slug, household_id=household_id))
    return render_household(campaign, target, outcome_form=form)


@bp.route("/<slug>/households/<int:household_id>/enter", methods=["GET", "POST"])
@role_required(*STAFF)
def enter(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    version = version_for_group(campaign, target.household_group, session=db.session)
    if version is None:
        abort(404)
    questionnaire = questionnaire_of(version)
    questions = list(questionnaire.questions())
    form = f.with_answer_fields(f.PaperEntryForm, questions)(batch=request.args.get("batch", ""))
    round_number = paper_entry.entry_round_for(campaign, target, session=db.session)
    problem = None
    if form.validate_on_submit():
        try:
            with db.write() as session:
                outcome = paper_entry.enter_paper_form(
                    session=session, campaign=campaign, household=target,
                    typed=f.typed_from(form, questions), worker=current_user,
                    batch=form.batch.data or "", started_at=f.entry_started_at(
                        form.started.data, target.id, current_user.id))
        except paper_entry.AnswerErrors as error:
            for qid, code in error.errors.items():
                form[f.field_name(qid)].errors = [f.answer_error(questionnaire, qid, code)]
            problem = _("The form was not saved: correct the marked answers.")
        except paper_entry.DuplicateOfWebResponse as error:
            problem = f.duplicate_message(error.rule)
        except paper_entry.EntryRefused as error:
            problem = f.refusal_message(error.reason)
        else:
            flash(_entry_message(outcome), "success")
            return redirect(url_for(".campaign_home", slug=slug))
    if not form.started.data:  # first shown (a re-shown form keeps its stamp)
        form.started.data = f.entry_start_stamp(target.id, current_user.id)
    return render_template("entry/enter.html", campaign=campaign, household=target,
                           form=form, questionnaire=questionnaire, questions=questions,
                           printed=paper_entry.printed_code(target), round_number=round_number,
                           double_entry=campaign.double_entry, problem=problem,
                           locale=_locale(), options_of=f.options_of,
                           field_name=f.field_name)


def _entry_message(outcome: paper_entry.EntryOutcome) -> str:
    return {
        "verified": _("Saved and verified: the response now counts."),
        "awaiting_second": _("First entry saved. Another entry of the same paper form is "
                             "needed before it counts."),
        "conflict": _("Second entry saved. It differs from the first in %(n)s field(s); the "
                      "form goes to reconciliation.", n=len(outcome.differences)),
        "held": _("Saved but held: the household also answered on the web. An administrator "
                  "decides which response counts."),
    }[outcome.status]


@bp.route("/<slug>/forms")
@role_required(*STAFF, Role.EVALUATOR)
def attention(slug: str):
    campaign = _campaign(slug)
    rows = paper_entry.forms_needing_attention(campaign, current_user, session=db.session)
    return render_template("entry/forms.html", campaign=campaign, rows=rows,
                           printed=paper_entry.printed_code)


@bp.route("/<slug>/forms/<int:form_id>/reconcile", methods=["GET", "POST"])
@role_required(*STAFF, Role.EVALUATOR)
def reconcile(slug: str, form_id: int):
    campaign = _campaign(slug)
    paper = _paper_form(campaign, form_id)
    if paper.status != "conflict":
        abort(404)
    rows = paper_entry.disagreements(paper, session=db.session)
    form_class = f.with_answer_fields(f.ReconciliationDecideForm, [r.question for r in rows])
    form = form_class()
    allowed = paper_entry.may_reconcile(paper, current_user, session=db.session)
    problem = None if allowed else f.refusal_message("entrant")
    if allowed and form.validate_on_submit():
        try:
            with db.write() as session:
                merged = paper_entry.reconcile(
                    session=session, form=paper,
                    chosen=f.typed_from(form, [r.question for r in rows]),
                    reason=form.reason.data, reviewer=current_user)
        except paper_entry.AnswerErrors as error:
            _mark_answer_errors(form, paper, error)
            problem = _("Not saved: correct the marked values.")
        except paper_entry.DuplicateOfWebResponse as error:
            problem = f.duplicate_message(error.rule)
        except paper_entry.ReconciliationRefused as error:
            problem = f.refusal_message(error.reason)
        else:
            flash(_("Reconciled: the merged response now counts.") if merged is not None
                  else f.refusal_message("held"), "success")
            return redirect(url_for(".attention", slug=slug))
    household = db.session.get(Household, paper.household_id)
    return render_template("entry/reconcile.html", campaign=campaign, paper=paper, rows=rows,
                           form=form, allowed=allowed, problem=problem, locale=_locale(),
                           printed=paper_entry.printed_code(household),
                           field_name=f.field_name)


def _mark_answer_errors(form, paper: PaperForm, error: paper_entry.AnswerErrors) -> None:
    household = db.session.get(Household, paper.household_id)
    campaign = db.session.get(Campaign, paper.campaign_id)
    _, questionnaire = paper_entry.questionnaire_for(campaign, household, session=db.session)
    for qid, code in error.errors.items():
        name = f.field_name(qid)
        message = f.answer_error(questionnaire, qid, code)
        if name in form:
            form[name].errors = [message]
        else:
            form.reason.errors = [*form.reason.errors, f"{qid}: {message}"]


@bp.route("/<slug>/forms/<int:form_id>/decide", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def decide(slug: str, form_id: int):
    campaign = _campaign(slug)
    paper = _paper_form(campaign, form_id)
    if paper.status != "held":
        abort(404)
    form = f.HeldFormDecideForm()
    if form.validate_on_submit():
        try:
            with db.write() as session:
                paper_entry.decide_held(session=session, form=paper,
                                        decision=form.decision.data, reason=form.reason.data,
                                        admin=current_user)
        except paper_entry.ReconciliationRefused as error:  # decided meanwhile by another
            flash(f.refusal_message(error.reason), "error")
            return redirect(url_for(".attention", slug=slug))
        flash(_("Decision recorded."), "success")
        return redirect(url_for(".attention", slug=slug))
    household = db.session.get(Household, paper.household_id)
    return render_template("entry/decide.html", campaign=campaign, paper=paper, form=form,
                           printed=paper_entry.printed_code(household), beijing=visits.beijing,
                           reconciled=paper_entry.held_reconciliation(paper,
                                                                      session=db.session))


@bp.route("/<slug>/quality")
@role_required(Role.ADMIN, Role.EVALUATOR)
def quality(slug: str):
    """Double-entry agreement, keying paradata and fabrication indicators per worker (for
    whom decides about back-checks: evaluators and administrators)."""
    campaign = _campaign(slug)
    stats = paper_entry.entry_quality(campaign, session=db.session)
    return render_template("entry/quality.html", campaign=campaign, stats=stats,
                           workers=score_cache.cached_worker_screen(campaign,
                                                                    session=db.session),
                           beijing=visits.beijing)


@bp.route("/<slug>/progress")
@role_required(*STAFF)
def field_progress(slug: str):
    campaign = _campaign(slug)
    community_id = _community_filter()
    rows, total = progress.field_progress(campaign, current_user, session=db.session,
                                          community_id=community_id)
    sampled = db.session.exec(paper_entry.scoped_households(
        campaign, current_user, community_id=community_id, sampled_only=True)).all()
    return render_template("entry/progress.html", campaign=campaign, rows=rows, total=total,
                           communities=_communities(), community_id=community_id,
                           attempts=visits.attempt_summary(sampled, session=db.session),
                           worker_days=visits.attempts_by_worker_day(
                               campaign, [h.id for h in sampled], session=db.session),
                           effect=sms_effect.reminder_effect(
                               campaign, [h.id for h in sampled], session=db.session))


@bp.route("/<slug>/print/blank/<group>")
@role_required(*STAFF)
def print_blank(slug: str, group: str):
    campaign = _campaign(slug)
    version = version_for_group(campaign, group, session=db.session)
    if version is None:
        abort(404)
    return _print([(None, questionnaire_of(version))], campaign)


@bp.route("/<slug>/print/households/<int:household_id>")
@role_required(*STAFF)
def print_household(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    _, questionnaire = paper_entry.questionnaire_for(campaign, target, session=db.session)
    return _print([(target, questionnaire)], campaign)


@bp.route("/<slug>/print/sample")
@role_required(*STAFF)
def print_sample(slug: str):
    """One personalised form per sampled household of a community, one per printed page."""
    campaign = _campaign(slug)
    community_id = _community_filter()
    if community_id is None:
        abort(404)
    query = paper_entry.scoped_households(campaign, current_user, community_id=community_id,
                                          sampled_only=True)
    cache: dict[str, object] = {}
    pages = []
    for target in db.session.exec(query).all():
        if target.household_group not in cache:
            cache[target.household_group] = paper_entry.questionnaire_for(
                campaign, target, session=db.session)[1]
        pages.append((target, cache[target.household_group]))
    return _print(pages, campaign)


def _print(pages, campaign: Campaign):
    return render_template("entry/print.html", campaign=campaign, pages=pages, locale=_locale(),
                           printed=paper_entry.printed_code, options_of=f.options_of,
                           question_numbers=f.question_numbers)


@bp.route("/<slug>/responses/<int:response_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_response(slug: str, response_id: int):
    campaign = _campaign(slug)
    response = db.session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id or response.status == "deleted":
        abort(404)
    questionnaire = questionnaire_of(db.session.get(QuestionnaireVersion,
                                                    response.questionnaire_version_id))
    questions = list(questionnaire.questions())
    current = {f.field_name(k): paper_entry.display_value(v)
               for k, v in answer_values(response, session=db.session).items()}
    form = f.with_answer_fields(f.ResponseEditForm, questions)(data=current)
    problem = None
    if form.validate_on_submit():
        try:
            with db.write() as session:
                response_edits.edit_response(session=session, response=response,
                                             typed=f.typed_from(form, questions),
                                             reason=form.reason.data, actor=current_user)
        except paper_entry.AnswerErrors as error:
            for qid, code in error.errors.items():
                form[f.field_name(qid)].errors = [f.answer_error(questionnaire, qid, code)]
            problem = _("Not saved: correct the marked answers.")
        except response_edits.EditRefused as error:
            problem = f.refusal_message(error.reason)
        else:
            flash(_("Response changed; the old values are kept in the audit trail."), "success")
            return redirect(url_for(".edit_response", slug=slug, response_id=response_id))
    return render_template("entry/response_edit.html", campaign=campaign, response=response,
                           form=form, delete_form=f.ResponseDeleteForm(formdata=None),
                           questionnaire=questionnaire, questions=questions, problem=problem,
                           locale=_locale(), options_of=f.options_of,
                           field_name=f.field_name)


@bp.route("/<slug>/responses/<int:response_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def delete_response(slug: str, response_id: int):
    campaign = _campaign(slug)
    response = db.session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id or response.status == "deleted":
        abort(404)
    form = f.ResponseDeleteForm()
    if not form.validate_on_submit():
        flash(f.refusal_message("no_reason"), "error")
        return redirect(url_for(".edit_response", slug=slug, response_id=response_id))
    with db.write() as session:
        response_edits.delete_response(session=session, response=response,
                                       reason=form.reason.data, actor=current_user)
    flash(_("Response deleted; it no longer counts. The old values are in the audit trail."),
          "success")
    return redirect(url_for(".campaign_home", slug=slug))
