from flask import render_template
from sqlmodel import select

from survey_app.admin import bp
from survey_app.extensions import db
from survey_app.models import Role, User
from survey_app.security import role_required
from survey_app.services import campaigns


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    overview = campaigns.campaign_overview(session=db.session)
    accounts = db.session.exec(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/index.html", overview=overview, accounts=accounts)
