"""Friendly error pages (HTML) and JSON errors under /api/."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"),
              _("The request could not be understood. Please go back and try again.")),
        401: (_("Login required"), _("Please log in first.")),
        403: (_("Not allowed"), _("Your account is not allowed to open this page.")),
        404: (_("Page not found"), _("This page does not exist. Please check the address.")),
        405: (_("Not allowed"), _("This action is not allowed here.")),
        409: (_("Conflict"), _("This conflicts with data that was already saved.")),
        413: (_("Too large"), _("What you sent is too large (at most %(size)d MB).",
                                 size=current_app.config["MAX_CONTENT_LENGTH"] // 2**20)),
        429: (_("Too many attempts"), _("Too many attempts. Please wait a minute and try again.")),
        500: (_("Something went wrong"),
              _("An internal error occurred. Nothing you entered was shared. "
                "Please try again later.")),
    }


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        title, message = _messages().get(code, (error.name, error.description or ""))
        if request.path.startswith(("/api/", "/gateway/")):  # machines read JSON
            response = jsonify(error=error.name, status=code, message=message)
        else:
            response = app.make_response(
                (render_template("error.html", title=title, message=message), code))
        response.status_code = code
        if code == 429 and error.get_response().headers.get("Retry-After"):
            response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
        return response
