"""Evaluators: results, the indicator score and exports."""

from flask import Blueprint

from survey_app.extensions import db

bp = Blueprint("evaluate", __name__, template_folder="templates")
# Evaluation documents and exports tolerate a replica's moment of lag (survey_app.db).
db.reads_replica(bp.name)

from survey_app.evaluate import backchecks, jobs, routes, units  # noqa: E402,F401  (registers the views)
from survey_app.evaluate.forms import filter_args  # noqa: E402

bp.add_app_template_global(filter_args)
