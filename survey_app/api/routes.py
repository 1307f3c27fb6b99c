from flask import abort, g, jsonify, request
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from survey_app import row_security
from survey_app.api import bp
from survey_app.api.openapi import openapi_document
from survey_app.api.schemas import ApiError, CampaignList, CampaignSummary
from survey_app.evaluate.forms import ScoreFilterForm
from survey_app.extensions import db
from survey_app.guessing import count_failed_lookup
from survey_app.models import Role, User
from survey_app.services import (
    api_tokens,
    campaigns,
    progress,
    rollups,
    score_cache,
    unit_scope,
    units,
    users,
)
from survey_app.services.score_filters import ScoresError

API_ROLES = {Role.EVALUATOR, Role.ADMIN}
# The API description is public: it names no campaign and no number.
PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _require_bearer_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401)
    try:
        user = _token_user(token.strip())
    except api_tokens.TokenExpired as exc:  # a real token, not a guess: not counted
        return _expired(exc)
    if user is None:
        count_failed_lookup()  # 429 once the address has spent its guesses
        abort(401)
    if user.role not in API_ROLES:
        abort(403)
    g.api_user = user
    row_security.apply_scope(user, session=db.session)


def _token_user(token: str):
    """The token's account, or None. Where this request reads a replica, the token and the
    account's standing are read on the primary: a token revoked or an account deactivated a
    moment ago must stop working at once, whatever the replica's lag."""
    if not db.on_replica:
        return api_tokens.user_for_token(token, session=db.session)
    with db.read_session() as primary:
        fresh = api_tokens.user_for_token(token, session=primary)
        user = db.session.get(User, fresh.id) if fresh is not None else None
        return users.refresh_standing(user, session=primary) if user is not None else None


def _expired(exc: api_tokens.TokenExpired):
    """401 for a token past its expiry, saying so (RFC 6750's ``invalid_token``)."""
    response = _json(ApiError(error="Unauthorized", status=401, message=(
        f"The bearer token expired on {exc.expires_at:%Y-%m-%d %H:%M} UTC. Ask an admin "
        "for a new one (survey-app api-token create).")), 401)
    response.headers["WWW-Authenticate"] = (
        'Bearer error="invalid_token", error_description="The token expired"')
    return response


@bp.after_request
def _no_store(response):
    # Scores are confidential until the evaluation report is published.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _json(model: BaseModel, status: int = 200):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/campaigns")
def list_campaigns():
    rows = [row for row in campaigns.campaign_overview(session=db.session)
            if unit_scope.campaign_visible(g.api_user, row.campaign, session=db.session)]
    return _json(CampaignList(campaigns=[CampaignSummary(
        slug=r.campaign.slug, title=r.campaign.title, year=r.campaign.year,
        status=r.campaign.status, households=r.households, sampled=r.sampled,
        completed_responses=r.completed) for r in rows]))


def _campaign_or_404(slug: str):
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None or not unit_scope.campaign_visible(g.api_user, campaign,
                                                           session=db.session):
        abort(404)
    return campaign


def filter_errors(form: ScoreFilterForm) -> dict[str, list[str]]:
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


@bp.route("/campaigns/<slug>/scores")
def campaign_scores(slug: str):
    campaign = _campaign_or_404(slug)
    form = ScoreFilterForm(formdata=MultiDict(request.args))
    if not form.validate():
        return _json(ApiError(error="Bad Request", status=400, message="invalid filters",
                              fields=filter_errors(form)), 400)
    return _json(score_cache.cached_scores_document(campaign, form.to_filters(),
                                                    session=db.session))


@bp.route("/campaigns/<slug>/progress")
def campaign_progress(slug: str):
    return _json(progress.progress_document(_campaign_or_404(slug), session=db.session))


@bp.route("/units/<code>/<int:year>/rollup")
def unit_rollup(code: str, year: int):
    unit = units.unit_by_code(code, session=db.session) if code.isdigit() else None
    if unit is None or not unit_scope.unit_visible(g.api_user, unit, session=db.session):
        abort(404)
    try:
        return _json(rollups.rollup_document(unit, year, session=db.session))
    except ScoresError as exc:
        return _json(ApiError(error="Conflict", status=409, message=str(exc)), 409)


@bp.route("/campaigns/<slug>/backchecks")
def campaign_backchecks(slug: str):
    """The back-check results (pseudonyms only); 404 until a sample is drawn."""
    from survey_app.services.backcheck_document import backcheck_document

    doc = backcheck_document(_campaign_or_404(slug), session=db.session)
    if doc is None:
        return _json(ApiError(error="Not Found", status=404,
                              message="no back-check sample drawn yet"), 404)
    return _json(doc)
