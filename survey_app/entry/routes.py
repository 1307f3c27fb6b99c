from flask import render_template
from flask_login import current_user

from survey_app.entry import bp
from survey_app.extensions import db
from survey_app.models import Community, Role
from survey_app.security import role_required


@bp.route("/")
@role_required(Role.WORKER, Role.ADMIN)
def index():
    community = None
    if current_user.community_id:
        community = db.session.get(Community, current_user.community_id)
    return render_template("entry/index.html", community=community)
