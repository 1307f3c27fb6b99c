from flask import abort, g, jsonify, request

from survey_app.api import bp
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.services import api_tokens, campaigns

API_ROLES = {Role.EVALUATOR, Role.ADMIN}


@bp.before_request
def _require_bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401)
    user = api_tokens.user_for_token(token.strip(), session=db.session)
    if user is None:
        abort(401)
    if user.role not in API_ROLES:
        abort(403)
    g.api_user = user


@bp.route("/campaigns")
def list_campaigns():
    rows = campaigns.campaign_overview(session=db.session)
    return jsonify(campaigns=[{
        "slug": r.campaign.slug, "title": r.campaign.title, "year": r.campaign.year,
        "status": r.campaign.status, "households": r.households, "sampled": r.sampled,
        "completed_responses": r.completed,
    } for r in rows])
