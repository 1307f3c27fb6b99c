"""Administrator pages for survey links and letters: issuing, printing, reprinting one
household's letter, the letter details and the open-link poster.

Letters are rendered from the links' encrypted copies (``services.link_copies``), so
issuing redirects to the letters page (PRG): reloading it, or opening it again next week,
prints the same links. Every letters page or archive is an audit event (``export.letters``):
it shows live links.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from survey_app import job_queue
from survey_app.admin import bp
from survey_app.admin.addresses import address_problems
from survey_app.admin.forms import (
    CampaignLetterForm,
    LettersJobForm,
    LinkReissueForm,
    TokensIssueForm,
)
from survey_app.admin.routes import (
    NO_STORE,
    _campaign_or_404,
    _done,
    _refused,
    _render_campaign,
)
from survey_app.extensions import db
from survey_app.models import Campaign, Community, Household, Role, utcnow
from survey_app.security import LARGEST_ROW_ID, asked_on_this_site, role_required
from survey_app.services import audit, campaigns, jobs, letters, tokens


@bp.route("/campaigns/<slug>/tokens", methods=["POST"])
@role_required(Role.ADMIN)
def issue_tokens(slug: str):
    campaign = _campaign_or_404(slug)
    form = TokensIssueForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, tokens_form=form)
    started = utcnow()
    try:
        with db.write() as session:
            issued = tokens.issue_tokens(campaign, session=session, actor=current_user,
                                         only_missing=form.only_missing.data,
                                         reissue=form.confirm_reissue.data)
            # The archive: a background job, written with the issuing it prints.
            job_id = (_letters_job(campaign, {"since": started}, session=session)
                      if form.output.data == "zip" else None)
    except tokens.TokenError as exc:
        return _refused(campaign, str(exc))
    except jobs.JobLimitReached as limit:  # nothing issued either: the letters go with it
        job_queue.nudge_pending(current_user)
        return _refused(campaign, limit.message())
    message = _("Issued %(count)d links.", count=len(issued))
    if job_id is not None:
        job_queue.deliver([job_id])
        return _done_to(url_for("admin.campaign", slug=slug) + f"#job-{job_id}", message)
    return _done_to(url_for("admin.letters_page", slug=slug, since=started.isoformat()),
                    message)


def _letters_job(campaign: Campaign, chosen: dict, *, session) -> int:
    """Write the letters job with its audit event (``export.letters_zip``); its id."""
    config = current_app.config
    params = {"base_url": config["PUBLIC_BASE_URL"], "lan_ok": config["PUBLIC_URL_LAN_ONLY"],
              "community_id": chosen.get("community_id"),
              "household_id": chosen.get("household_id"),
              "since": chosen["since"].isoformat() if chosen.get("since") else None}
    return jobs.create_job("letters", params, session=session, actor=current_user,
                           campaign=campaign, action="export.letters_zip",
                           details={k: str(v) for k, v in chosen.items()},
                           max_pending=config["JOB_MAX_PENDING_PER_USER"]).id


@bp.route("/campaigns/<slug>/jobs/letters", methods=["POST"])
@role_required(Role.ADMIN)
def start_letters(slug: str):
    """The letters archive of the selected live links, prepared in the background."""
    campaign = _campaign_or_404(slug)
    if not LettersJobForm().validate_on_submit():
        abort(400)
    chosen = _selection(campaign)
    try:
        with db.write() as session:
            job_id = _letters_job(campaign, chosen, session=session)
    except jobs.JobLimitReached as limit:
        job_queue.nudge_pending(current_user)
        return _refused(campaign, limit.message())
    job_queue.deliver([job_id])
    return _done_to(url_for("admin.campaign", slug=slug) + f"#job-{job_id}",
                    _("The file is being prepared; it can be downloaded below when it is "
                      "ready."))


def _done_to(location: str, message: str, *, category: str = "success"):
    flash(message, category)
    return redirect(location)


def _selection(campaign: Campaign) -> dict:
    """The letters asked for: ``community`` (code), ``household`` (id), ``since`` (ISO time
    of an issuing); 404 for a community or household that is not there."""
    chosen: dict = {}
    if code := request.args.get("community"):
        community = db.session.exec(select(Community).where(Community.code == code)).first()
        if community is None:
            abort(404)
        chosen["community_id"] = community.id
    if (household_id := request.args.get("household", type=int)) is not None:
        household = (db.session.get(Household, household_id)
                     if 0 < household_id <= LARGEST_ROW_ID else None)
        if household is None or household.campaign_id != campaign.id:
            abort(404)
        chosen["household_id"] = household_id
    if since := request.args.get("since"):
        try:
            chosen["since"] = datetime.fromisoformat(since)
        except ValueError:
            abort(404)
    return chosen


def _printed(campaign: Campaign, kind: str) -> tokens.LiveLinks:
    """The selected live links, with the audit event of showing them."""
    chosen = _selection(campaign)
    with db.write() as session:
        links = tokens.live_links(campaign, session=session, **chosen)
        audit.record(f"export.{kind}", "campaign", campaign.id, session=session,
                     actor=current_user, campaign_id=campaign.id,
                     details={"links": len(links.printable),
                              **{k: str(v) for k, v in chosen.items()}})
    return links


@bp.route("/campaigns/<slug>/letters")
@role_required(Role.ADMIN)
@asked_on_this_site
def letters_page(slug: str):
    campaign = _campaign_or_404(slug)
    links = _printed(campaign, "letters")
    base = current_app.config["PUBLIC_BASE_URL"]
    batches = letters.letters_by_community(links.printable, session=db.session, base_url=base)
    page = letters.render_letters(campaign, batches, base_url=base,
                                  css_href=url_for("static", filename=letters.LETTERS_CSS),
                                  problems=address_problems(),
                                  without_copy=len(links.without_copy))
    return Response(page, mimetype="text/html", headers=NO_STORE)


@bp.route("/campaigns/<slug>/letters.zip")
@role_required(Role.ADMIN)
@asked_on_this_site
def letters_zip(slug: str):
    campaign = _campaign_or_404(slug)
    links = _printed(campaign, "letters_zip")
    archive = letters.letters_zip(campaign, links.printable, session=db.session,
                                  base_url=current_app.config["PUBLIC_BASE_URL"],
                                  problems=address_problems())
    response = send_file(io.BytesIO(archive), mimetype="application/zip", as_attachment=True,
                         download_name=f"{campaign.slug}-letters.zip")
    response.headers.update(NO_STORE)
    return response


@bp.route("/campaigns/<slug>/links")
@role_required(Role.ADMIN)
def links(slug: str):
    """Every sampled household with the state of its link: print or reissue one letter."""
    campaign = _campaign_or_404(slug)
    rows = tokens.link_rows(campaign, session=db.session)
    return render_template("admin/links.html", campaign=campaign, rows=rows,
                           reissue_form=LinkReissueForm(formdata=None),
                           address_problems=address_problems())


@bp.route("/campaigns/<slug>/households/<int:household_id>/reissue", methods=["POST"])
@role_required(Role.ADMIN)
def reissue_link(slug: str, household_id: int):
    campaign = _campaign_or_404(slug)
    household = db.session.get(Household, household_id)
    if household is None or household.campaign_id != campaign.id:
        abort(404)
    back = url_for("admin.links", slug=slug)
    if not LinkReissueForm().validate_on_submit():
        return _done_to(back, _("Tick \"The old letter stops working\" to reissue the link "
                                "of household %(code)s.", code=household.household_code),
                        category="error")
    try:
        with db.write() as session:
            tokens.reissue_link(household, session=session, actor=current_user)
    except tokens.TokenError as exc:
        return _done_to(back, str(exc), category="error")
    return _done_to(url_for("admin.letters_page", slug=slug, household=household_id),
                    _("Household %(code)s has a new link; its earlier letter no longer "
                      "works. Print this letter.", code=household.household_code))


@bp.route("/campaigns/<slug>/letter-details", methods=["POST"])
@role_required(Role.ADMIN)
def letter_details(slug: str):
    campaign = _campaign_or_404(slug)
    form = CampaignLetterForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, letter_form=form)
    with db.write() as session:
        campaigns.set_letter_details(campaign, commissioner=form.commissioner.data or "",
                                     evaluator_org=form.evaluator_org.data or "",
                                     hotline=form.hotline.data or "", session=session,
                                     actor=current_user)
    return _done(campaign, _("Letter details saved."))


@bp.route("/campaigns/<slug>/poster")
@role_required(Role.ADMIN)
def poster(slug: str):
    campaign = _campaign_or_404(slug)
    return letters.render_poster(campaign, base_url=current_app.config["PUBLIC_BASE_URL"],
                                 css_href=url_for("static", filename=letters.LETTERS_CSS),
                                 problems=address_problems())
