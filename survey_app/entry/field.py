"""The offline interviewer page (issue 22): a page, its service worker, the field pack it
caches, and the sync endpoint that stores each interview exactly once.

The service worker is served under the page's own path (``/entry/<slug>/field/sw.js``), so
its default scope is the page's folder and no ``Service-Worker-Allowed`` header is needed.
The JSON routes answer a logged-out phone with 401 (not the login redirect): the page keeps
its interviews and asks the worker to log in again. The sync post carries the CSRF token of
the session in ``X-CSRFToken``, read fresh from the pack just before syncing, so a page
cached for days never posts a stale one.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache, wraps
from pathlib import Path

from flask import abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from survey_app.entry import bp
from survey_app.entry.field_texts import page_texts
from survey_app.entry.forms import contact_refusal
from survey_app.entry.household_page import NO_STORE
from survey_app.entry.routes import _campaign, _locale
from survey_app.extensions import csrf, db
from survey_app.labels import label
from survey_app.models import Role, utcnow
from survey_app.security import LARGEST_ROW_ID, role_required
from survey_app.services import contact_vault, paper_entry, visits
from survey_app.services import field_interviews as fi
from survey_app.services.campaigns import field_start, first_day
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group

STATIC = Path(__file__).resolve().parents[1] / "static"
#: What the service worker keeps besides the page and the pack.
FIELD_FILES = ("field.css", "field-rules.js", "field-store.js", "field.js")
NO_CACHE = {"Cache-Control": "no-cache"}


@lru_cache(maxsize=1)
def _files_version() -> str:
    """A digest of the field files: a new version makes browsers install the worker again."""
    digest = hashlib.sha256()
    for name in (*FIELD_FILES, "field-sw.js"):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def _json_worker(view):
    """A worker's JSON route: 401 when logged out (the page keeps its interviews), 403 for
    other roles."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return jsonify(error="login"), 401
        if current_user.role != Role.WORKER:
            return jsonify(error="role"), 403
        return view(*args, **kwargs)

    return wrapped


@bp.route("/<slug>/field/")
@role_required(Role.WORKER)
def field_page(slug: str):
    campaign = _campaign(slug)
    return render_template("entry/field.html", campaign=campaign, texts=page_texts(),
                           version=_files_version(), files=FIELD_FILES), 200, NO_CACHE


@bp.route("/<slug>/field/sw.js")
def field_service_worker(slug: str):
    """The service worker of the page (public: it is the same code for everyone and holds
    nothing of the campaign but its address)."""
    base = url_for(".field_page", slug=slug)
    files = [url_for("static", filename=name) for name in FIELD_FILES]
    body = (f"const FIELD_VERSION = {json.dumps(_files_version())};\n"
            f"const FIELD_BASE = {json.dumps(base)};\n"
            f"const FIELD_FILES = {json.dumps(files)};\n"
            + (STATIC / "field-sw.js").read_text(encoding="utf-8"))
    return current_app.response_class(body, mimetype="text/javascript", headers=NO_CACHE)


@bp.route("/<slug>/field/app.webmanifest")
def field_manifest(slug: str):
    """What makes the page installable on the phone's home screen (public, like sw.js)."""
    base = url_for(".field_page", slug=slug)
    manifest = {"name": _("Interviews"), "short_name": _("Interviews"), "start_url": base,
                "scope": base, "display": "standalone", "background_color": "#f4f5f7",
                "theme_color": "#14508c",
                "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any",
                           "type": "image/svg+xml"}]}
    return current_app.response_class(json.dumps(manifest, ensure_ascii=False),
                                      mimetype="application/manifest+json")


@bp.route("/<slug>/field/pack.json")
@_json_worker
def field_pack(slug: str):
    """The questionnaires and the worker's households, with a fresh CSRF token."""
    campaign = _campaign(slug)
    pack = fi.field_pack(campaign, current_user, session=db.session, locale=_locale())
    pack["csrf_token"] = generate_csrf()
    # Whose interviews the phone may send now: records made under another account (a shared
    # phone) wait for that account instead of being credited to this one.
    pack["worker"] = current_user.id
    return jsonify(pack), 200, {"Cache-Control": "no-store"}


@bp.route("/<slug>/field/interviews", methods=["POST"])
@csrf.exempt  # checked below, after the login: a logged-out phone must learn it is (401)
@_json_worker
def field_sync(slug: str):
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        return jsonify(error="csrf"), 400
    campaign = _campaign(slug)
    post = request.get_json(silent=True)
    if not isinstance(post, dict) or not _row_id(post.get("household_id")) \
            or not isinstance(post.get("answers"), dict) \
            or not fi.INSTANCE_ID.fullmatch(str(post.get("instance_id", ""))):
        return jsonify(error="malformed"), 400
    if "worker" in post and not (type(post["worker"]) is int
                                 and post["worker"] == current_user.id):
        # Made on this phone under another account: credited to that account only (the
        # per-worker fabrication screen and back-checks rest on who interviewed).
        return jsonify(error="worker", message=_(
            "This interview was made under another account; it is sent when that account "
            "signs in on this phone.")), 409
    household = paper_entry.household_for(campaign, post["household_id"], current_user,
                                          session=db.session)
    if household is None:
        # Not in the campaign or another community's: the same answer for both, as the
        # HTML routes' 404, and a message the page shows beside the record it keeps.
        return jsonify(error="not_found", message=_(
            "This household is not on your list for this survey; the interview stays on "
            "this phone.")), 404
    return _stored_or_refused(campaign, household, post)


@bp.route("/<slug>/field/contacts", methods=["POST"])
@csrf.exempt  # checked below, after the login
@_json_worker
def field_contacts(slug: str):
    """Names, addresses and phones of the worker's households still to visit, for the phone
    to keep while offline: the vault's own rule (``contact_vault.refusal``: own community,
    sampled, campaign open) and one ``contact.reveal`` audit event per household, purpose
    ``visit``. Never cached by the browser or the service worker (``no-store``, POST)."""
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        return jsonify(error="csrf"), 400
    campaign = _campaign(slug)
    households = fi.households_to_visit(campaign, current_user, session=db.session)
    try:
        with db.write() as session:
            shown = contact_vault.reveal(households, user=current_user, campaign=campaign,
                                         purpose="visit", session=session,
                                         secret=current_app.config["CONTACT_KEY"])
    except contact_vault.RevealRefused as refused:
        return jsonify(error=refused.reason, message=contact_refusal(refused.reason)), 403
    contacts = {str(hid): {"name": c.name, "address": c.address, "phone": c.phone}
                for hid, c in shown.items() if c is not None}
    return jsonify(contacts=contacts), 200, NO_STORE


def _row_id(value: object) -> bool:
    """A database id: an int (not a bool) the database's INTEGER holds."""
    return type(value) is int and 0 < value <= LARGEST_ROW_ID


def _stored_or_refused(campaign, household, post: dict):
    version = version_for_group(campaign, household.household_group, session=db.session)
    if version is None:
        return jsonify(error="no_questionnaire", message=_("No questionnaire.")), 409
    ids = {q.id for q in questionnaire_of(version).questions()}
    try:
        paradata = fi.read_paradata(post.get("paradata"), question_ids=ids, now=utcnow(),
                                    earliest=field_start(campaign))
    except fi.ParadataError as error:
        return _paradata_refused(campaign, error)
    with db.write() as session:
        outcome = fi.take_interview(
            session=session, campaign=campaign, household=household, worker=current_user,
            instance_id=post["instance_id"], raw_answers=post["answers"], paradata=paradata,
            locale=_locale())
    return _answer(outcome, campaign, household)


def _paradata_refused(campaign, error: fi.ParadataError):
    """400 naming the part; for times out of bounds a message the page shows with the
    record it keeps (the phone's clock is the usual cause)."""
    if error.problem == "unreadable":
        return jsonify(error="paradata", part=error.reason), 400
    when = visits.beijing(error.moment).strftime("%Y-%m-%d %H:%M")
    if error.problem == "too_early":
        message = _("The interview's start (%(time)s by the phone's clock) is before the "
                    "survey began (%(start)s). Check the phone's date and time; the interview "
                    "stays on this phone.", time=when, start=first_day(campaign))
    else:
        message = _("The interview's end (%(time)s by the phone's clock) is in the future. "
                    "Check the phone's date and time; the interview stays on this phone.",
                    time=when)
    return jsonify(error=error.problem, part=error.reason, message=message), 400


def _answer(outcome: fi.InterviewOutcome, campaign, household):
    if isinstance(outcome, fi.Stored):
        return jsonify(receipt=outcome.response.receipt_code, created=outcome.created), \
            201 if outcome.created else 200
    if isinstance(outcome, fi.Invalid):
        return jsonify(error="invalid", errors=dict(outcome.errors),
                       message=_("The answers no longer fit the questionnaire.")), 422
    if isinstance(outcome, fi.AnsweredElsewhere):
        return jsonify(error="answered", mode=outcome.mode,
                       message=_("This household already answered (%(mode)s).",
                                 mode=label(outcome.mode))), 409
    if isinstance(outcome, fi.InstanceConflict):
        return jsonify(error="instance", message=_(
            "Another interview was sent under this number.")), 409
    if isinstance(outcome, fi.NotSampled):
        return jsonify(error="unsampled", enter=url_for(
            ".enter", slug=campaign.slug, household_id=household.id), message=_(
            "This household is not in the sample, so it cannot be sent from this page. The "
            "interview stays on this phone: key it on the paper entry page.")), 409
    if isinstance(outcome, fi.NotTaking):
        return jsonify(error="closed", message=_("The survey takes no answers now.")), 409
    abort(500)
