"""Read-only JSON API for evaluators' own tools (bearer tokens)."""

from flask import Blueprint

bp = Blueprint("api", __name__, )

from survey_app.api import routes  # noqa: E402,F401  (registers the views)
