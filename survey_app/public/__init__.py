"""Pages for residents: the start page and the survey forms."""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")

from survey_app.public import routes  # noqa: E402,F401  (registers the views)
