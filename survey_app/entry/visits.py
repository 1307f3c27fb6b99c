"""Contact details and visits: the worker reveals a household's contact (audited), records
each visit or call attempt, and prints a visit list of their sampled households.

Clear contact details are only ever in the answer to a POST that says why (the reveal is
written to the audit trail first); every GET shows the masked forms.
"""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from survey_app.entry import bp
from survey_app.entry import forms as f
from survey_app.entry.household_page import render_household
from survey_app.entry.routes import _campaign, _household
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.security import role_required
from survey_app.services import contact_vault


@bp.route("/<slug>/households/<int:household_id>/contact", methods=["POST"])
@role_required(Role.WORKER)
def reveal_contact(slug: str, household_id: int):
    campaign = _campaign(slug)
    target = _household(campaign, household_id)
    form = f.ContactRevealForm()
    if not form.validate_on_submit():
        return render_household(campaign, target, reveal_form=form)
    try:
        with db.write() as session:
            shown = contact_vault.reveal([target], user=current_user, campaign=campaign,
                                         purpose=form.purpose.data,
                                         secret=current_app.config["CONTACT_KEY"],
                                         session=session)
    except contact_vault.RevealRefused as refused:
        return render_household(campaign, target, status=403, reveal_form=form,
                                contact_problem=f.contact_refusal(refused.reason))
    return render_household(campaign, target, reveal_form=form,
                            contact=shown[target.id])
