"""JSON API for evaluators' own tools (bearer tokens): read-only documents, and exports run
as background jobs."""

from flask import Blueprint

from survey_app.extensions import db

bp = Blueprint("api", __name__, )
# Every GET may read from the replica (survey_app.db), except a job's progress and file.
db.reads_replica(bp.name)

from survey_app.api import jobs, routes  # noqa: E402,F401  (registers the views)
