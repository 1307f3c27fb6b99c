"""Pages for residents: the start page and the survey forms."""

from flask import Blueprint

from survey_app.services.survey_session import OpenLinks

bp = Blueprint("public", __name__, template_folder="templates")
OPEN_LINKS = "survey_open_links"


@bp.record_once
def _open_links(state) -> None:
    # One per app (per gunicorn worker): what its open links resolved to, for the posts.
    state.app.extensions[OPEN_LINKS] = OpenLinks(
        ttl_seconds=state.app.config["OPEN_LINK_CACHE_SECONDS"])

from survey_app.public import receipts, routes, text_size  # noqa: E402,F401  (registers the views)
