"""The SMS provider's callbacks: delivery receipts and replies (JSON, no cookies)."""

from flask import Blueprint

bp = Blueprint("gateway", __name__)

from survey_app.gateway import routes  # noqa: E402,F401  (registers the views)
