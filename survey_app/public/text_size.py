"""The resident pages' large-text layout, remembered per link.

``?text=large`` on any resident page (no script needed), or the survey form's own button,
switches it. The choice is kept in a small persistent cookie scoped to the link's path
(``/s/<token>`` or ``/c/<slug>``), not in the browser-session cookie: an elderly resident who
resumes a saved questionnaire the next day finds the large text still on, and the choice made
for one link does not follow a phone that is passed to another household.
"""

from __future__ import annotations

from flask import after_this_request, current_app, request

from survey_app.public import bp

COOKIE = "text_size"
KEEP_SECONDS = 366 * 24 * 3600
_CHOSEN = "survey.large_text"


def link_path(path: str) -> str:
    """The link a resident page belongs to: ``/s/<token>`` or ``/c/<slug>``, else ``/``.

    >>> link_path("/s/abc/receipt/1"), link_path("/c/heshan/relocated"), link_path("/")
    ('/s/abc', '/c/heshan', '/')
    """
    parts = path.split("/")
    if len(parts) > 2 and parts[1] in ("s", "c") and parts[2]:
        return f"/{parts[1]}/{parts[2]}"
    return "/"


def remember(large: bool) -> None:
    """Switch this page and the link's later pages to the large (or normal) layout."""
    # Kept on the request, not on g: g belongs to the app context, which may outlive it.
    request.environ[_CHOSEN] = large

    @after_this_request
    def _keep(response):
        response.set_cookie(COOKIE, "large" if large else "normal", max_age=KEEP_SECONDS,
                            path=link_path(request.path), httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response


@bp.before_request
def _switch_by_query() -> None:
    size = request.args.get("text")
    if size in ("large", "normal"):
        remember(size == "large")


@bp.app_context_processor
def _text_size_context() -> dict:
    large = request.environ.get(_CHOSEN)
    if large is None:
        large = request.cookies.get(COOKIE) == "large"
    return {"large_text": large}
