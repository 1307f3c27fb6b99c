"""Community workers: paper questionnaire entry and field progress."""

from flask import Blueprint

bp = Blueprint("entry", __name__, template_folder="templates")

from survey_app.entry import field, routes, visits  # noqa: E402,F401  (registers the views)
