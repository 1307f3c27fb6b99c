"""The household page of the entry blueprint, shared by the views that show it again
(the outcome form, a contact reveal, a visit that was not saved)."""

from __future__ import annotations

from flask import render_template, request
from sqlmodel import select

from survey_app.entry import forms as f
from survey_app.extensions import db
from survey_app.models import Campaign, Community, Household, PaperForm, Response, utcnow
from survey_app.services import contact_vault, paper_entry, visits

#: A page showing clear contact details must not stay in a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def render_household(campaign: Campaign, household: Household, *, status: int = 200,
                     outcome_form=None, reveal_form=None, contact=None,
                     contact_problem: str | None = None, visit_form=None,
                     visit_problem: str | None = None):
    """The page, with the forms as given (a rejected form keeps what was typed) and the
    clear ``contact`` only when a reveal just opened it."""
    paper = db.session.exec(select(PaperForm).where(
        PaperForm.campaign_id == campaign.id, PaperForm.household_id == household.id)).first()
    responses = db.session.exec(select(Response).where(
        Response.household_id == household.id)).all()
    page = render_template(
        "entry/household.html", campaign=campaign, household=household,
        form=outcome_form or f.DispositionRecordForm(disposition=household.disposition,
                                                     formdata=None),
        reveal_form=reveal_form or f.ContactRevealForm(formdata=None),
        contact=contact, contact_state=contact_vault.contact_state(household),
        contact_problem=contact_problem, paper=paper, responses=responses,
        visit_form=visit_form or new_visit_form(), visit_problem=visit_problem,
        visits=visits.visits_of(household, session=db.session), beijing=visits.beijing,
        # From the visit list (or after recording one): the cursor waits in the visit form.
        focus_visit=request.args.get("from") == "visits" or visit_form is not None,
        channels=f.channel_labels(), outcome_label=f.outcome_label,
        printed=paper_entry.printed_code(household),
        community=db.session.get(Community, household.community_id),
        labels=f.disposition_labels())
    return page, status, NO_STORE if contact is not None else {}


def new_visit_form() -> f.VisitRecordForm:
    """A blank visit form whose time is now (Beijing), ready to be changed or kept."""
    now = visits.beijing(utcnow()).replace(second=0, microsecond=0, tzinfo=None)
    return f.VisitRecordForm(formdata=None, attempted_at=now)
