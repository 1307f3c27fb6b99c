"""Resident pages: the start page, token links (/s/<token>) and open links (/c/<slug>).

CSRF on the survey posts is checked by :func:`forms.read_survey_post` inside the view rather
than by the app-wide CSRFProtect, so that a token that expired while a resident was answering
re-renders the form with every answer instead of discarding the post.

A post's final submit is one service call (:func:`survey_submit.submit_survey`: the write,
its single retry); the view renders the outcome. A draft is written through ``db.write()``.
"""

from collections.abc import Mapping
from dataclasses import replace

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from itsdangerous import BadSignature, Signer
from sqlmodel import select
from werkzeug.exceptions import TooManyRequests

from survey_app.client_address import client_key
from survey_app.extensions import csrf, db
from survey_app.guessing import count_failed_lookup, open_submit_refused
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Household,
    HouseholdGroup,
    ResponseMode,
)
from survey_app.public import OPEN_LINKS, bp, text_size
from survey_app.public.forms import (
    IdentifyForm,
    SurveyAnswerForm,
    SurveyPost,
    new_survey_form,
    read_survey_post,
)
from survey_app.services import open_identity, survey_session, survey_submit
from survey_app.services.personal_data import keyed_hash
from survey_app.services.survey_session import (
    AlreadyAnswered,
    OpenLink,
    SurveyLink,
    SurveyTarget,
    SurveyUnavailable,
    TokenLink,
)


@bp.route("/favicon.ico")
def favicon():
    # Browsers (and WeChat's) ask for /favicon.ico whatever the page's <link rel="icon">.
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/")
def index():
    query = select(Campaign).where(Campaign.status == CampaignStatus.OPEN)
    campaigns = db.session.exec(query.order_by(Campaign.year.desc())).all()
    return render_template("public/index.html", campaigns=campaigns)


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt
@db.reads_first
def token_survey(token: str):
    link = TokenLink(token)
    try:
        target = link.resolve(session=db.session)
    except SurveyUnavailable as exc:
        # A retried submit after the first one went through must still get its receipt.
        if not (exc.reason == "used" and request.method == "POST"):
            return _failed_lookup(exc)
        target = exc.target
    if request.method == "GET":
        # A household whose paper form was verified while its link stayed live (before
        # the link was marked used on verifying) sees "already answered", not a form whose
        # answers its submit would refuse.
        if (earlier := open_identity.web_answer_blocked_by(
                target.household, target.campaign, session=db.session)) is not None:
            return render_template("public/answered.html", response=earlier, household=True)
        values = survey_session.draft_values(target, session=db.session)
        return _render_survey(target, new_survey_form(), values)
    return _take_answers(link, target, ".token_receipt", {"token": token},
                         draft_url=url_for(".token_survey", token=token))


@bp.route("/s/<token>/receipt/<instance_id>")
def token_receipt(token: str, instance_id: str):
    try:
        target = survey_session.resolve_token(token, session=db.session)
    except SurveyUnavailable as exc:
        if exc.reason != "used":
            return _failed_lookup(exc)
        target = exc.target
    response = survey_session.completed_response(target.campaign, instance_id,
                                                 session=db.session, household=target.household)
    if response is None:
        return _failed_lookup(SurveyUnavailable("unavailable"))
    return render_template("public/receipt.html", target=target, response=response)


# The open link this browser has answered, in a small signed cookie scoped to the link's
# path ("<group>:<instance id>"). Back, a refresh or a second tap after the receipt then
# lands on the receipt instead of a fresh form (a new form would carry a new instance id and
# store a second response). Not the Flask session: re-serialising it cost ~10 % of a submit.
ANSWERED_COOKIE = "answered"
#: ``/c/<slug>/<group>?unverified=1``: answer without identifying the household.
UNVERIFIED_ARG = "unverified"
ANSWERED_SECONDS = 366 * 24 * 3600


def _answered_signer() -> Signer:
    return Signer(current_app.secret_key, salt="open-link-answered")


def _answered_here(slug: str) -> list[str] | None:
    raw = request.cookies.get(ANSWERED_COOKIE)
    if not raw:
        return None
    try:
        value = _answered_signer().unsign(raw).decode()
    except BadSignature:
        return None
    answered_slug, group, instance_id = (value.split(":") + ["", ""])[:3]
    return [group, instance_id] if answered_slug == slug and instance_id else None


def _remember_answered(response, slug: str, group: str, instance_id: str):
    response.set_cookie(
        ANSWERED_COOKIE, _answered_signer().sign(f"{slug}:{group}:{instance_id}").decode(),
        max_age=ANSWERED_SECONDS, path=f"/c/{slug}", httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _earlier_receipt(slug: str, earlier: list[str]):
    flash(_("This phone has already sent answers to this survey, and they are counted once. "
            "Thank you!"), "info")
    group, instance_id = earlier
    return redirect(url_for(".open_receipt", slug=slug, group=group, instance_id=instance_id))


@bp.route("/c/<slug>")
def open_link(slug: str):
    try:
        survey_session.open_campaign(slug, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    return _render_identify(slug, None, IdentifyForm(formdata=None))


@bp.route("/c/<slug>/identify", methods=["POST"])
@csrf.exempt  # IdentifyForm checks its own token: an expired page keeps what was typed
def open_identify(slug: str):
    group = request.args.get("group")
    group = group if group in tuple(HouseholdGroup) else None
    try:
        campaign = survey_session.open_campaign(slug, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    form = IdentifyForm()
    if not form.validate():
        return _render_identify(slug, group, form, status=422)
    way = form.pair()
    if way is None:
        return _render_identify(slug, group, form, status=422, problem=_(
            "Please fill in both boxes of one way: the household code and its check code, "
            "or the ID number's last 6 characters and the phone number."))
    household = open_identity.identify(campaign.id, way, form.data, session=db.session,
                                       key=current_app.config["PII_KEY"])
    if household is None:
        problem, status, retry_after = _failed_identification()
        return _render_identify(slug, group, form, status=status, problem=problem,
                                retry_after=retry_after)
    earlier = open_identity.counted_response_of(household, session=db.session)
    if earlier is not None:
        return render_template("public/answered.html", response=earlier, household=True)
    who = open_identity.sign_identity(open_identity.Identified(household, way), slug,
                                      secret=current_app.secret_key)
    return redirect(url_for(".open_survey", slug=slug, group=household.household_group,
                            who=who))


def _failed_identification() -> tuple[str, int, int | None]:
    """What to say (and the status and Retry-After) when what was typed names no household:
    each failure costs the address a guess (survey_app.guessing)."""
    try:
        count_failed_lookup()
    except TooManyRequests as exc:
        return _("Too many attempts from this network. Please try again in %(minutes)s "
                 "minutes.", minutes=max(1, exc.retry_after // 60)), 429, exc.retry_after
    return _("No household of this survey matches what you typed. Please check it against "
             "your letter or ask your community office."), 422, None


def _render_identify(slug: str, group: str | None, form: IdentifyForm, *, status: int = 200,
                     problem: str | None = None, retry_after: int | None = None):
    page = render_template("public/identify.html", slug=slug, group=group, form=form,
                           problem=problem)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return page, status, headers


@bp.route("/c/<slug>/answer")
def choose_group(slug: str):
    """The group choice of a resident who answers without identifying the household."""
    if (earlier := _answered_here(slug)) is not None:
        return _earlier_receipt(slug, earlier)
    try:
        survey_session.open_campaign(slug, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    return render_template("public/choose_group.html", slug=slug)


@bp.route("/c/<slug>/<group>", methods=["GET", "POST"])
@csrf.exempt
@db.reads_first
def open_survey(slug: str, group: str):
    who = (request.args if request.method == "GET" else request.form).get("who", "").strip()
    if request.method == "GET" and not who and request.args.get(UNVERIFIED_ARG) != "1":
        return open_identify_page(slug, group)
    earlier = _answered_here(slug) if not who else None
    # The same instance posted again is the idempotent repeat of that submission.
    if earlier is not None and (request.method == "GET"
                                or request.form.get("instance_id") != earlier[1]):
        return _earlier_receipt(slug, earlier)
    link = OpenLink(slug, group, current_app.extensions[OPEN_LINKS])
    # A post reuses what the link resolved to moments ago (its insert checks it again).
    try:
        target = link.resolve(session=db.session, reuse=request.method == "POST")
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    if who:
        target = _with_identity(target, who, slug)
        if not isinstance(target, SurveyTarget):
            return target
    if request.method == "GET":
        return _render_survey(target, new_survey_form(who), {})
    return _take_answers(link, target, ".open_receipt", {"slug": slug, "group": group},
                         draft_url=None)


def open_identify_page(slug: str, group: str):
    """The identification step in front of a group's open link (a poster may print it)."""
    try:
        survey_session.resolve_open_link(slug, group, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    return _render_identify(slug, group, IdentifyForm(formdata=None))


def _with_identity(target: SurveyTarget, who: str, slug: str):
    """``target`` answered as the household the signed ``who`` names, or the page to show
    instead: the identification step again when a link's identification expired, the form
    with every answer kept when a post's did (:func:`_identify_again`), "already answered"."""
    try:
        target = _identified(target, who, slug)
    except open_identity.IdentityExpired:
        if request.method == "POST":
            return _identify_again(target, slug)
        return _render_identify(slug, target.group, IdentifyForm(formdata=None), problem=_(
            "Your household identification has expired (it lasts two days). Please "
            "identify your household again."))
    if request.method == "GET" and (earlier := open_identity.counted_response_of(
            target.household, session=db.session)) is not None:
        return render_template("public/answered.html", response=earlier, household=True)
    return target


def _identified(target: SurveyTarget, who: str, slug: str) -> SurveyTarget:
    """``target`` as the answer of the household named by the signed ``who``; 400 for a
    forged value or a household of another campaign or group; IdentityExpired for a value
    that was this link's but is too old."""
    identity = open_identity.read_identity(who, slug, secret=current_app.secret_key)
    household = db.session.get(Household, identity[0]) if identity is not None else None
    if (household is None or household.campaign_id != target.campaign.id
            or household.household_group != target.group):
        abort(400)
    return replace(target, household=household)


def _identify_again(target: SurveyTarget, slug: str):
    """A post whose identification expired: the target answered as the household the boxes
    shown beside the answers identify (the form then carries a fresh identification, see
    :func:`_render_survey`), or the form again with every answer kept and nothing stored."""
    form = IdentifyForm(meta={"csrf": False})  # the survey post's own token was checked
    way = form.pair() if form.validate() else None
    household, status, retry_after = None, 422, None
    if way is not None:
        household = open_identity.identify(target.campaign.id, way, form.data,
                                           session=db.session, key=current_app.config["PII_KEY"])
    if household is not None and household.household_group == target.group:
        g.open_who = open_identity.sign_identity(open_identity.Identified(household, way),
                                                 slug, secret=current_app.secret_key)
        return replace(target, household=household)
    if household is not None:
        problem = _("The household you typed answers another questionnaire. Please check "
                    "the codes, or open the survey link again.")
    elif way is not None:
        problem, status, retry_after = _failed_identification()
    elif any(field.data for field in form if field.name != "identify"):
        problem = _("Please fill in both boxes of one way: the household code and its check "
                    "code, or the ID number's last 6 characters and the phone number.")
    else:
        problem = _("Your household identification has expired (it lasts two days), so your "
                    "answers could not be sent yet. Your answers are kept: please identify "
                    "your household again below and press the button again.")
    post = read_survey_post(request.form)
    page, _status = _render_survey(target, SurveyAnswerForm(), post.answers(
        target.questionnaire), notice=problem, identify_again=form)
    if status == 422 and "submit" not in post:
        status = 200  # text size or Enter: nothing was refused
    return page, status, {"Retry-After": str(retry_after)} if retry_after else {}


@bp.route("/c/<slug>/<group>/receipt/<instance_id>")
def open_receipt(slug: str, group: str, instance_id: str):
    try:
        target = survey_session.resolve_open_link(slug, group, session=db.session)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    response = survey_session.completed_response(target.campaign, instance_id,
                                                 session=db.session)
    if response is None or response.mode != ResponseMode.WEB_OPEN:
        return _unavailable(SurveyUnavailable("unavailable"))
    return render_template("public/receipt.html", target=target, response=response)


def _take_answers(link: SurveyLink, target: SurveyTarget, receipt_endpoint: str,
                  link_args: dict, *, draft_url: str | None):
    """Handle a survey post: text size, draft, or the final submit."""
    post = read_survey_post(request.form)
    used = target.access_token is not None and target.access_token.used_at is not None
    if used and "submit" not in post:  # only a retried submit may still reach a used token
        return _unavailable(SurveyUnavailable("used", target))
    if post.pressed & {"larger_text", "normal_text", "keep"} or post.language:
        # Layout or language switched, or Enter pressed in a text box (the form's default
        # button): the same form again with every answer, nothing stored.
        if post.pressed & {"larger_text", "normal_text"}:
            text_size.remember("larger_text" in post)
        if post.language:
            session["locale"] = post.language
            refresh()
        return _render_survey(target, SurveyAnswerForm(), post.answers(target.questionnaire))
    if post.instance_id is None:
        abort(400)
    if post.csrf_error is not None:
        notice = _("Your answers are kept, but the page had expired. "
                   "Please check them and press the button again.")
        return _render_survey(target, SurveyAnswerForm(), post.answers(target.questionnaire),
                              notice=notice)
    locale = str(get_locale() or "zh")
    if "save" in post and draft_url is not None:
        return _save_draft(target, post, locale, draft_url)
    fingerprint = _fingerprint()
    if (refused := _limited(target, post, fingerprint)) is not None:
        return refused
    outcome = survey_submit.submit_survey(link, target, post, database=db, locale=locale,
                                          fingerprint=fingerprint)
    return _render_outcome(outcome, receipt_endpoint, link_args)


def _limited(target: SurveyTarget, post: SurveyPost, fingerprint: str):
    """The form again (429, every answer kept) when an unverified open-link answer is over
    its address's or device's limit; None otherwise (identified answers are never limited)."""
    if target.access_token is not None or target.household is not None:
        return None
    retry_after = open_submit_refused(fingerprint)
    if retry_after is None:
        return None
    notice = _("Too many answers were sent from this network just now. Your answers "
               "are kept: please press the button again in %(minutes)s minutes.",
               minutes=max(1, -(-retry_after // 60)))
    page, _status = _render_survey(target, SurveyAnswerForm(),
                                   post.answers(target.questionnaire), notice=notice)
    return page, 429, {"Retry-After": str(retry_after)}


def _save_draft(target: SurveyTarget, post: SurveyPost, locale: str, draft_url: str):
    check = survey_session.check_answers(target, post.answers(target.questionnaire),
                                         partial=True)
    try:
        with db.write() as writing:
            survey_session.save_draft(target, check.values, session=writing,
                                      instance_id=post.instance_id, locale=locale,
                                      started_at=post.started_at)
    except AlreadyAnswered:
        return _unavailable(SurveyUnavailable("used", target))
    except SurveyUnavailable as exc:  # closed or revoked since the link was resolved
        return _unavailable(exc)
    flash(_("Your answers are saved. Open the same link again to continue."), "info")
    return redirect(draft_url)


def _render_outcome(outcome: survey_submit.SubmitOutcome, receipt_endpoint: str,
                    link_args: dict):
    """The page of a submit's outcome (see :mod:`survey_app.services.survey_submit`)."""
    match outcome:
        case survey_submit.Stored(response=response):
            receipt = redirect(url_for(receipt_endpoint, instance_id=response.instance_id,
                                       **link_args))
            if response.household_id is None:  # an open link: this device has answered
                return _remember_answered(receipt, link_args["slug"], link_args["group"],
                                          response.instance_id)
            return receipt
        case survey_submit.Invalid(target=target, answers=answers, errors=errors):
            return _render_survey(target, SurveyAnswerForm(), answers, errors=errors)
        case survey_submit.Conflict():
            return render_template("public/conflict.html"), 409
        case survey_submit.Refused(refusal=refusal):
            # Nothing was written; the page is read without the write lock.
            return _unavailable(refusal)
    raise TypeError(f"not a submit outcome: {outcome!r}")


def _as_lists(values: Mapping) -> dict[str, list[str]]:
    """Stored values (code, number, text or codes) as the strings a form shows."""
    shown = {}
    for qid, value in values.items():
        shown[qid] = [str(item) for item in value] if isinstance(value, list) else [str(value)]
    return shown


def _render_survey(target: SurveyTarget, form: SurveyAnswerForm, values: Mapping, *,
                   errors: Mapping[str, str] | None = None, notice: str | None = None,
                   identify_again: IdentifyForm | None = None):
    """The questionnaire with ``values``; ``identify_again``: the identification boxes
    shown beside the answers when an open link's identification expired."""
    shown = _as_lists(values)
    if (fresh := g.get("open_who")) is not None:  # identified again by this post
        form.who.data = fresh
    status = 200 if not errors else 422
    return render_template(
        "public/survey.html", target=target, q=target.questionnaire, form=form, shown=shown,
        errors=errors or {}, notice=notice, identify_again=identify_again,
        locale=str(get_locale() or "zh"),
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


def _unavailable(exc: SurveyUnavailable):
    """Friendly pages for links that can't be answered (unknown and closed look the same)."""
    if exc.reason == "revoked":
        return render_template("public/revoked.html"), 410
    if exc.reason == "used":
        receipt = survey_session.completed_response_of_household(exc.target.household,
                                                                 session=db.session)
        return render_template("public/answered.html", response=receipt,
                               household=exc.target.access_token is None), 200
    return render_template("public/unavailable.html"), 404


def _failed_lookup(exc: SurveyUnavailable):
    """A token link (or receipt) that was looked up and not found: unknown and closed look
    the same, and each costs its address a guess (survey_app.guessing); valid links are never
    counted or refused."""
    if exc.reason == "unavailable":
        count_failed_lookup()
    return _unavailable(exc)


def _fingerprint() -> str:
    # Keyed hash only: lets evaluators spot many open-link answers from one device. The
    # address as the rate limits count it (an IPv6 client by its /64): a device choosing a
    # new address of its network for each answer is still one device.
    client = f"{client_key()}|{request.user_agent.string}"
    return keyed_hash(client, current_app.config["PII_KEY"])
