"""The administrator's button that purges a campaign's clear contact data after fieldwork
(the same service as ``survey-app contacts purge``)."""

from flask_babel import gettext as _
from flask_login import current_user

from survey_app.admin import bp
from survey_app.admin.forms import ContactPurgeForm
from survey_app.admin.routes import _campaign_or_404, _done, _refused
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.security import role_required
from survey_app.services import contact_vault


@bp.route("/campaigns/<slug>/contacts/purge", methods=["POST"])
@role_required(Role.ADMIN)
def purge_contacts(slug: str):
    campaign = _campaign_or_404(slug)
    if not ContactPurgeForm().validate_on_submit():
        return _refused(campaign, _("The form expired; try again."))
    try:
        with db.write() as session:
            purged = contact_vault.purge(campaign, session=session, actor=current_user)
    except contact_vault.PurgeRefused:
        return _refused(campaign, _("Contact data is deleted only once fieldwork is over: "
                                    "close the campaign first."))
    return _done(campaign, _("Clear contact data of %(count)d households deleted; the keyed "
                             "hashes used for matching are kept.", count=purged))
