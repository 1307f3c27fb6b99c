"""Read-only JSON API for evaluators' own tools (bearer tokens)."""

from flask import Blueprint

from survey_app.extensions import db

bp = Blueprint("api", __name__, )
# A read-only API: every request may read from the replica (survey_app.db).
db.reads_replica(bp.name)

from survey_app.api import routes  # noqa: E402,F401  (registers the views)
