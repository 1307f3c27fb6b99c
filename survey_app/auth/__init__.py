"""Staff login and logout."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from survey_app.auth import routes  # noqa: E402,F401  (registers the views)
