"""The household page of the entry blueprint, shared by the views that show it again
(the outcome form, a contact reveal, a visit that was not saved)."""

from __future__ import annotations

from flask import render_template
from sqlmodel import select

from survey_app.entry import forms as f
from survey_app.extensions import db
from survey_app.models import Campaign, Community, Household, PaperForm, Response
from survey_app.services import contact_vault, paper_entry

#: A page showing clear contact details must not stay in a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def render_household(campaign: Campaign, household: Household, *, status: int = 200,
                     outcome_form=None, reveal_form=None, contact=None,
                     contact_problem: str | None = None):
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
        printed=paper_entry.printed_code(household),
        community=db.session.get(Community, household.community_id),
        labels=f.disposition_labels())
    return page, status, NO_STORE if contact is not None else {}
