"""Response headers, login loading and role checks shared by every blueprint."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from itertools import chain
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, current_app, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user, login_required
from itsdangerous import BadData, URLSafeTimedSerializer
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

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute address, the default port filled in; None for
    anything else (``Origin: null``, a relative or malformed address)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.rstrip("."), port


def _own_origins() -> set[tuple[str, str, int] | None]:
    # The address this request reached and PUBLIC_BASE_URL: behind a proxy that neither
    # keeps the Host header nor is trusted for X-Forwarded-Proto (TRUSTED_PROXIES, which
    # believes no X-Forwarded-Host), the request sees http://127.0.0.1:8000 while the
    # browser was on the public https address; both are this app.
    return {_origin(request.host_url), _origin(current_app.config["PUBLIC_BASE_URL"])} - {None}


def _asked_here() -> bool | None:
    """True when the browser says the request came from this site (or was typed), False
    when it names another site, None when it says nothing at all."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in _THIS_SITE
    # Browsers without Sec-Fetch-Site still name the page a request came from. Origin
    # first (``null`` from a sandboxed or privacy-sensitive context is not this site);
    # else the Referer, which this app's Referrer-Policy (same-origin) sends to itself.
    sender = request.headers.get("Origin") or request.headers.get("Referer")
    if not sender:
        return None
    return _origin(sender) in _own_origins()


#: The confirmation page's link carries this signed query value, for a browser that names
#: no page at all (no Sec-Fetch-Site, and Referer stripped by a privacy setting or add-on).
CONFIRMED = "confirmed"
#: How long that link stands for the evaluator's click, in seconds.
CONFIRM_SECONDS = 600


def _confirm_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="asked-on-this-site")


def _address() -> str:
    """This request's address without its confirmation: the one a confirmation is bound to
    (the same text when signed on the page and checked on the click)."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != CONFIRMED]
    return f"{request.path}?{urlencode(kept)}" if kept else request.path


def _confirmation_link(address: str) -> str:
    # Bound to the account and its session version (a logout everywhere voids it) and to
    # the address: another site cannot read the page it is on, nor reuse it for another
    # user or download.
    token = _confirm_signer().dumps([current_user.get_id(), address])
    return f"{address}{'&' if '?' in address else '?'}{CONFIRMED}={token}"


def _confirmed(address: str) -> bool:
    token = request.args.get(CONFIRMED)
    if not token:
        return False
    try:
        signed = _confirm_signer().loads(token, max_age=CONFIRM_SECONDS)
    except BadData:
        return False
    return signed == [current_user.get_id(), address]


def asked_on_this_site(view: Callable) -> Callable:
    """A GET that writes (an export's audit event and snapshot anchor) runs only when the
    browser says it was asked for on this site, or typed or bookmarked: ``Sec-Fetch-Site``
    same-origin or none; a browser without it (Safari before 16.4, older WeChat/X5 and
    Android webviews) by an ``Origin``, else ``Referer``, of this app's own origin (the
    request's or ``PUBLIC_BASE_URL``'s). A link or image on another site (cross-site, or
    same-site: another host of the domain) would otherwise make a logged-in evaluator's
    browser export, since the session cookie is SameSite=Lax; it gets a page (403, nothing
    written) whose link to the same address, on this site, starts the download.

    A request that says nothing (no Sec-Fetch-Site, Origin or Referer) gets that page too:
    in such a browser an image on another site sends no Referer when that site's policy is
    no-referrer, so nothing tells it from a typed address. The evaluator who typed it pays
    one click: the page's link sends a same-origin Referer, and carries a signed
    confirmation (bound to the account and the address, :data:`CONFIRM_SECONDS`) that passes
    when the browser strips even that; a confirmation never outweighs a header naming
    another site. Scripts that want the files without a browser use the API's export jobs
    (a token, no session cookie) or ``survey-app export``; one that reuses a session cookie
    can send ``Sec-Fetch-Site: same-origin``. Put it under ``role_required``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        here = _asked_here()
        address = _address()
        if here or (here is None and _confirmed(address)):
            return view(*args, **kwargs)
        return render_template("confirm_download.html", address=_confirmation_link(address),
                               unknown=here is None), 403

    return wrapped
