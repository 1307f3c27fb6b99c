"""Contact details and visits: the worker reveals a household's contact (audited), records
each visit or call attempt, and prints a visit list of their sampled households.

Clear contact details are only ever in the answer to a POST that says why (the reveal is
written to the audit trail first); every GET shows the masked forms.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey_app.entry import bp
from survey_app.entry import forms as f
from survey_app.entry.household_page import NO_STORE, render_household
from survey_app.entry.routes import STAFF, _campaign, _community_filter, _household
from survey_app.extensions import db
from survey_app.models import Community, Disposition, Role
from survey_app.security import role_required
from survey_app.services import contact_vault, paper_entry, visits
from survey_app.services.campaigns import first_day
from survey_app.services.score_filters import BEIJING


def _reveal(campaign, households, purpose: str):
    """The clear contacts, audited in one write (raises ``RevealRefused``)."""
    with db.write() as session:
        return contact_vault.reveal(households, user=current_user, campaign=campaign,
                                    purpose=purpose, secret=current_app.config["CONTACT_KEY"],
                                    session=session)


@bp.route("/<slug>/households/<int:household_id>/contact", methods=["POST"])
@role_required(Role.WORKER)
def reveal_contact(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    form = f.ContactRevealForm()
    if not form.validate_on_submit():
        return render_household(campaign, target, reveal_form=form)
    try:
        shown = _reveal(campaign, [target], form.purpose.data)
    except contact_vault.RevealRefused as refused:
        return render_household(campaign, target, status=403, reveal_form=form,
                                contact_problem=f.contact_refusal(refused.reason))
    return render_household(campaign, target, reveal_form=form,
                            contact=shown[target.id])


@bp.route("/<slug>/households/<int:household_id>/visits", methods=["POST"])
@role_required(*STAFF)
def record_visit(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    form = f.VisitRecordForm()
    if not form.validate_on_submit():
        return render_household(campaign, target, visit_form=form)
    appointment = form.next_appointment.data
    try:
        with db.write() as session:
            visits.record_visit(
                session=session, campaign=campaign, household=target, worker=current_user,
                attempted_at=form.attempted_at.data.replace(tzinfo=BEIJING),
                channel=form.channel.data, outcome=form.outcome.data,
                note=form.note.data or "",
                next_appointment=appointment.replace(tzinfo=BEIJING) if appointment else None)
    except visits.VisitRefused as refused:
        message = f.visit_refusal(refused.reason, start=first_day(campaign))
        if refused.reason in f.VISIT_REFUSAL_FIELDS:  # said beside the field, typing kept
            form[f.VISIT_REFUSAL_FIELDS[refused.reason]].errors = [message]
            return render_household(campaign, target, visit_form=form)
        return render_household(campaign, target, visit_form=form, visit_problem=message)
    flash(_("Attempt recorded."), "success")
    # No #fragment: a page opened at a fragment ignores autofocus, and the cursor should
    # wait in the visit form for the next attempt.
    return redirect(url_for(".household", slug=slug, household_id=household_id,
                            **{"from": "visits"}))


#: Empty attempt boxes printed per household (the first three attempts of AAPOR practice).
ATTEMPT_BOXES = 3


def _visit_list_households(campaign):
    """The sampled households of the worker's community not yet completed (admins: the
    community chosen with ?community=; without one, not found)."""
    community_id = _community_filter()
    if community_id is None:
        abort(404)
    query = paper_entry.scoped_households(campaign, current_user, community_id=community_id,
                                          sampled_only=True)
    households = [h for h in db.session.exec(query).all()
                  if h.disposition != Disposition.COMPLETED]
    return households, db.session.get(Community, community_id)


def _render_visit_list(campaign, households, community, *, contacts=None, problem=None,
                       status=200):
    page = render_template(
        "entry/visit_list.html", campaign=campaign, households=households,
        community=community, contacts=contacts, problem=problem,
        done=visits.household_visits([h.id for h in households], session=db.session),
        printed=paper_entry.printed_code, outcomes=visits.VISIT_OUTCOMES,
        outcome_label=f.outcome_label, labels=f.disposition_labels(), beijing=visits.beijing,
        boxes=range(1, ATTEMPT_BOXES + 1), reveal_form=f.VisitListRevealForm(formdata=None))
    return page, status, NO_STORE if contacts else {}


@bp.route("/<slug>/visits")
@role_required(*STAFF)
def visit_list(slug: str):
    """The worker's visit list: masked until they ask for the addresses (POST)."""
    campaign = _campaign(slug)
    households, community = _visit_list_households(campaign)
    return _render_visit_list(campaign, households, community)


@bp.route("/<slug>/visits", methods=["POST"])
@role_required(Role.WORKER)
def visit_list_with_contacts(slug: str):
    """The printable list with names, addresses and phones; one audit event per household."""
    campaign = _campaign(slug)
    households, community = _visit_list_households(campaign)
    if not f.VisitListRevealForm().validate_on_submit():
        abort(400)  # only the CSRF token can fail: the purpose is fixed
    try:
        contacts = _reveal(campaign, households, "visit_list")
    except contact_vault.RevealRefused as refused:
        return _render_visit_list(campaign, households, community, status=403,
                                  problem=f.contact_refusal(refused.reason))
    return _render_visit_list(campaign, households, community, contacts=contacts)
