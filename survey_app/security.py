"""Response headers, login loading and role checks shared by every blueprint."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from itertools import chain
from typing import Any

from flask import Flask, abort, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user, login_required
from werkzeug.routing import IntegerConverter

from survey_app import row_security
from survey_app.extensions import db, login_manager
from survey_app.services import users

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


HSTS = "max-age=31536000; includeSubDomains"


class BoundedJSONProvider(DefaultJSONProvider):
    """A request body nested deeper than Python's recursion limit (``[[[[...``, a few
    hundred kilobytes) is malformed JSON, which ``get_json(silent=True)`` answers with None,
    instead of a RecursionError and a server error."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


#: The largest id or year the database holds (INTEGER columns, 32 bits on PostgreSQL).
LARGEST_ROW_ID = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in an address, at most :data:`LARGEST_ROW_ID`: a longer number is 404
    like any id that does not exist, not a database error (SQLite cannot bind it at all)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = DatabaseIntConverter  # before the blueprints' rules
    row_security.init_app(app)

    @login_manager.user_loader
    def _load_user(user_id: str):
        user = users.load_user(user_id, session=db.session)
        if user is not None and db.on_replica:
            with db.read_session() as primary:
                user = users.refresh_standing(user, session=primary)
        if user is not None:  # PostgreSQL's row-level security filters by its unit
            row_security.apply_scope(user, session=db.session)
        return user

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL can neither store nor compare text holding NUL: without this, a NUL in
        # any form field, query value or address is a server error there. Nobody types one.
        if _has_nul(request.path, request.args, request.form):
            abort(400)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            # Served over HTTPS (secure cookies): browsers must not fall back to HTTP, where
            # the session cookie would not be sent and a login form could be forged.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def _has_nul(path: str, *multidicts) -> bool:
    # One scan of the joined keys and values: a survey post has ~20 fields on every submit.
    return "\x00" in path or any(
        "\x00" in "".join(chain.from_iterable(multidict.items(multi=True)))
        for multidict in multidicts)


def role_required(*roles: str) -> Callable:
    """Logged-out visitors go to the login page; a logged-in user of another role gets 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: ``Sec-Fetch-Site`` values of a request asked for on this site, typed or bookmarked.
_THIS_SITE = frozenset({"same-origin", "none"})


def asked_on_this_site(view: Callable) -> Callable:
    """A GET that writes (an export's audit event and snapshot anchor) runs only when the
    browser says it was asked for on this site or typed or bookmarked: ``Sec-Fetch-Site``
    same-origin or none, or no such header (a script, or a browser older than 2023). A link
    or image on another site (cross-site, or same-site: another host of the domain) would
    otherwise make a logged-in evaluator's browser export, since the session cookie is
    SameSite=Lax; it gets a page (403, nothing written) whose link to the same address, on
    this site, starts the download. Put it under ``role_required``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if request.headers.get("Sec-Fetch-Site", "none") not in _THIS_SITE:
            address = request.full_path if request.query_string else request.path
            return render_template("confirm_download.html", address=address), 403
        return view(*args, **kwargs)

    return wrapped
