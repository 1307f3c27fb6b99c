from flask import render_template
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import Campaign, CampaignStatus
from survey_app.public import bp


@bp.route("/")
def index():
    query = select(Campaign).where(Campaign.status == CampaignStatus.OPEN)
    campaigns = db.session.exec(query.order_by(Campaign.year.desc())).all()
    return render_template("public/index.html", campaigns=campaigns)
