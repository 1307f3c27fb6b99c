"""Administrators: campaigns, rosters, samples, accounts."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")

# The views register themselves on import.
from survey_app.admin import (  # noqa: E402,F401
    campaign_years,
    contacts,
    letters_routes,
    routes,
    sms,
)
