"""Evaluators: results, the indicator score and exports."""

from flask import Blueprint

bp = Blueprint("evaluate", __name__, template_folder="templates")

from survey_app.evaluate import backchecks, jobs, routes, units  # noqa: E402,F401  (registers the views)
