"""Administrators: campaigns, rosters, samples, accounts."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")

from survey_app.admin import contacts, letters_routes, routes, sms  # noqa: E402,F401  (registers the views)
