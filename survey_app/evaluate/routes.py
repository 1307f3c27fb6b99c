from flask import render_template

from survey_app.evaluate import bp
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.security import role_required
from survey_app.services import campaigns


@bp.route("/")
@role_required(Role.EVALUATOR, Role.ADMIN)
def index():
    overview = campaigns.campaign_overview(session=db.session)
    return render_template("evaluate/index.html", overview=overview)
