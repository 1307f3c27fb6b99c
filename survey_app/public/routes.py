"""Resident pages: the start page, token links (/s/<token>) and open links (/c/<slug>).

CSRF on the survey posts is checked by :func:`forms.read_survey_post` inside the view rather
than by the app-wide CSRFProtect, so that a token that expired while a resident was answering
re-renders the form with every answer instead of discarding the post.
"""

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import select

from survey_app.extensions import csrf, db, limiter
from survey_app.models import Campaign, CampaignStatus
from survey_app.public import OPEN_LINKS, bp
from survey_app.public.forms import SurveyAnswerForm, read_survey_post
from survey_app.services import survey_session
from survey_app.services.personal_data import keyed_hash
from survey_app.services.responses import ConflictingResubmission
from survey_app.services.survey_session import AlreadyAnswered, SurveyTarget, SurveyUnavailable

ANSWER_PREFIX = "a_"


def _token_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


# One budget per visitor across every token page: guessing tokens is throttled.
token_rate_limit = limiter.shared_limit(_token_limit, scope="survey-token")


@bp.before_request
def _remember_text_size() -> None:
    # ?text=large on any resident page (no script needed) switches to the large-text layout.
    size = request.args.get("text")
    if size in ("large", "normal"):
        session["large_text"] = size == "large"


@bp.app_context_processor
def _text_size_context() -> dict:
    return {"large_text": bool(session.get("large_text"))}


@bp.route("/")
def index():
    query = select(Campaign).where(Campaign.status == CampaignStatus.OPEN)
    campaigns = db.session.exec(query.order_by(Campaign.year.desc())).all()
    return render_template("public/index.html", campaigns=campaigns)


@bp.route("/s/<token>", methods=["GET", "POST"])
@token_rate_limit
@csrf.exempt
@db.reads_first
def token_survey(token: str):
    return _token_survey(token, again=False)


def _token_survey(token: str, *, again: bool):
    try:
        target = survey_session.resolve_token(token, session=db.session)
    except SurveyUnavailable as exc:
        # A retried submit after the first one went through must still get its receipt.
        if not (exc.reason == "used" and request.method == "POST"):
            return _unavailable(exc)
        target = exc.target
    if request.method == "GET":
        values = survey_session.draft_values(target, session=db.session)
        return _render_survey(target, SurveyAnswerForm(instance_id=str(uuid.uuid4())), values)
    return _take_answers(target, ".token_receipt", {"token": token},
                         draft_url=url_for(".token_survey", token=token),
                         resolve_again=None if again else lambda: _token_survey(token, again=True))


@bp.route("/s/<token>/receipt/<instance_id>")
@token_rate_limit
def token_receipt(token: str, instance_id: str):
    try:
        target = survey_session.resolve_token(token, session=db.session)
    except SurveyUnavailable as exc:
        if exc.reason != "used":
            return _unavailable(exc)
        target = exc.target
    response = survey_session.completed_response(target.campaign, instance_id,
                                                 session=db.session, household=target.household)
    if response is None:
        return _unavailable(SurveyUnavailable("unavailable"))
    return render_template("public/receipt.html", target=target, response=response)


@bp.route("/c/<slug>")
def open_link(slug: str):
    try:
        survey_session.resolve_open_link(slug, None, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    return render_template("public/choose_group.html", slug=slug)


@bp.route("/c/<slug>/<group>", methods=["GET", "POST"])
@csrf.exempt
@db.reads_first
def open_survey(slug: str, group: str):
    return _open_survey(slug, group, again=False)


def _open_survey(slug: str, group: str, *, again: bool):
    # A first post reuses what the link resolved to moments ago (its insert checks it again).
    try:
        target = survey_session.resolve_open_link(
            slug, group, session=db.session, links=current_app.extensions[OPEN_LINKS],
            reuse=request.method == "POST" and not again)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    if request.method == "GET":
        return _render_survey(target, SurveyAnswerForm(instance_id=str(uuid.uuid4())), {})
    return _take_answers(target, ".open_receipt", {"slug": slug, "group": group},
                         draft_url=None,
                         resolve_again=None if again else lambda: _open_survey(slug, group,
                                                                               again=True))


@bp.route("/c/<slug>/<group>/receipt/<instance_id>")
def open_receipt(slug: str, group: str, instance_id: str):
    try:
        target = survey_session.resolve_open_link(slug, group, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    response = survey_session.completed_response(target.campaign, instance_id,
                                                 session=db.session)
    if response is None or response.household_id is not None:
        return _unavailable(SurveyUnavailable("unavailable"))
    return render_template("public/receipt.html", target=target, response=response)


def _take_answers(target: SurveyTarget, receipt_endpoint: str, link_args: dict, *,
                  draft_url: str | None, resolve_again: Callable[[], Any] | None = None):
    """Handle a survey post: text size, draft, or the final submit.

    ``resolve_again``: handles the post anew with the link read from the database, for a
    submit the write refused as unavailable (the campaign closed, or the group's
    questionnaire replaced, since the link was read or remembered: the answers are then
    checked against the new one). None on that second pass.
    """
    post = read_survey_post(request.form)
    used = target.access_token is not None and target.access_token.used_at is not None
    if used and "submit" not in post:  # only a retried submit may still reach a used token
        return _unavailable(SurveyUnavailable("used", target))
    posted = _posted_answers(target)
    if "larger_text" in post or "normal_text" in post:
        session["large_text"] = "larger_text" in post
        return _render_survey(target, SurveyAnswerForm(), posted)
    if post.instance_id is None:
        abort(400)
    if post.csrf_error is not None:
        notice = _("Your answers are kept, but the page had expired. "
                   "Please check them and press the button again.")
        return _render_survey(target, SurveyAnswerForm(), posted, notice=notice)
    locale = str(get_locale() or "zh")
    if "save" in post and draft_url is not None:
        check = survey_session.check_answers(target, posted, partial=True)
        try:
            survey_session.save_draft(target, check.values, session=db.begin_write(),
                                      instance_id=post.instance_id, locale=locale)
        except AlreadyAnswered:
            return _refused(SurveyUnavailable("used", target))
        except SurveyUnavailable as exc:  # closed or revoked since the link was resolved
            return _refused(exc)
        db.session.commit()
        flash(_("Your answers are saved. Open the same link again to continue."), "info")
        return redirect(draft_url)
    check = survey_session.check_answers(target, posted)
    if not check.ok:
        return _render_survey(target, SurveyAnswerForm(), posted, errors=check.errors)
    return _submit(target, check.values, post.instance_id, locale, receipt_endpoint, link_args,
                   resolve_again=resolve_again)


def _submit(target: SurveyTarget, values: Mapping, instance_id: str, locale: str,
            receipt_endpoint: str, link_args: dict, *,
            resolve_again: Callable[[], Any] | None):
    """Store validated answers and redirect to the receipt (see :func:`_take_answers`)."""
    writing = db.begin_write(writes_first=target.submit_writes_first)
    try:
        response, _created = survey_session.submit_response(
            target, values, session=writing, instance_id=instance_id,
            locale=locale, fingerprint=_fingerprint())
    except ConflictingResubmission:
        db.session.rollback()
        return render_template("public/conflict.html"), 409
    except AlreadyAnswered:
        return _refused(SurveyUnavailable("used", target))
    except SurveyUnavailable as exc:  # closed, revoked or changed since the link was resolved
        refusal = exc
    else:
        db.session.commit()
        return redirect(url_for(receipt_endpoint, instance_id=response.instance_id, **link_args))
    if resolve_again is not None and refusal.reason == "unavailable":
        # What the post read or reused is out of date: handle it again from the database.
        db.session.rollback()
        db.end_write()
        return resolve_again()
    return _refused(refusal)


def _posted_answers(target: SurveyTarget) -> dict[str, list[str]]:
    """The posted answer strings of the questionnaire's questions; other keys are ignored."""
    form = request.form  # once: each access through the proxy costs a lookup
    return {question.id: form.getlist(ANSWER_PREFIX + question.id)
            for question in target.questionnaire.questions()}


def _as_lists(values: Mapping) -> dict[str, list[str]]:
    """Stored values (code, number, text or codes) as the strings a form shows."""
    shown = {}
    for qid, value in values.items():
        shown[qid] = [str(item) for item in value] if isinstance(value, list) else [str(value)]
    return shown


def _render_survey(target: SurveyTarget, form: SurveyAnswerForm, values: Mapping, *,
                   errors: Mapping[str, str] | None = None, notice: str | None = None):
    shown = _as_lists(values)
    status = 200 if not errors else 422
    return render_template(
        "public/survey.html", target=target, q=target.questionnaire, form=form, shown=shown,
        errors=errors or {}, notice=notice, locale=str(get_locale() or "zh"),
        error_messages=_error_messages(), can_save=target.access_token is not None,
        numbers={item.id: n for n, item in enumerate(target.questionnaire.questions(), 1)},
    ), status


def _error_messages() -> dict[str, str]:
    return {
        "required": _("Please answer this question."),
        "invalid_choice": _("Please choose one of the options shown."),
        "out_of_range": _("This number is outside the allowed range."),
        "not_an_integer": _("Please enter a whole number, e.g. 3."),
        "too_long": _("This answer is too long. Please shorten it."),
    }


def _refused(exc: SurveyUnavailable):
    """A post refused inside its write transaction: nothing written, the page read without
    the write lock."""
    db.session.rollback()
    db.end_write()
    return _unavailable(exc)


def _unavailable(exc: SurveyUnavailable):
    """Friendly pages for links that can't be answered (unknown and closed look the same)."""
    if exc.reason == "revoked":
        return render_template("public/revoked.html"), 410
    if exc.reason == "used":
        receipt = survey_session.completed_response_of_household(exc.target.household,
                                                                 session=db.session)
        return render_template("public/answered.html", response=receipt), 200
    return render_template("public/unavailable.html"), 404


def _fingerprint() -> str:
    # Keyed hash only: lets evaluators spot many open-link answers from one device.
    client = f"{request.remote_addr}|{request.user_agent.string}"
    return keyed_hash(client, current_app.config["PII_KEY"])
