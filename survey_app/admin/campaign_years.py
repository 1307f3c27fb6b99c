"""The administrator's choice of a campaign's predecessor (the same service as
``survey-app campaign previous``): the scores document then compares year over year."""

from flask_babel import gettext as _
from flask_login import current_user

from survey_app.admin import bp
from survey_app.admin.routes import _campaign_or_404, _done, _refused, previous_form
from survey_app.extensions import db
from survey_app.models import Campaign, Role
from survey_app.security import role_required
from survey_app.services import campaign_years, campaigns


@bp.route("/campaigns/<slug>/previous", methods=["POST"])
@role_required(Role.ADMIN)
def campaign_previous(slug: str):
    campaign = _campaign_or_404(slug)
    form = previous_form(campaign)
    if not form.validate_on_submit():
        return _refused(campaign, _("Choose one of the listed campaigns."))
    previous = db.session.get(Campaign, form.previous_id.data) if form.previous_id.data else None
    try:
        with db.write() as session:
            campaign_years.set_previous(campaign, previous, session=session, actor=current_user)
    except campaigns.CampaignError as exc:
        return _refused(campaign, str(exc))
    return _done(campaign, _("Previous campaign saved."))
