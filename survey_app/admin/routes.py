"""Administrator pages: campaigns (questionnaires, dates, status, indicator settings,
roster, sample) and worker accounts; links and letters are in ``letters_routes``.

Every POST validates a form, calls one service inside ``db.write()`` (one commit; a refusal
raised inside it rolls back) and redirects (PRG). One exception, on purpose: a rejected
roster re-renders the page with its full problem table.
"""

import io

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from survey_app.admin import bp
from survey_app.admin.addresses import address_problems
from survey_app.admin.forms import (
    CampaignCreateForm,
    CampaignDatesForm,
    CampaignLetterForm,
    CampaignPreviousForm,
    CampaignStatusForm,
    CampaignUnitForm,
    IndicatorSettingsForm,
    LettersJobForm,
    QuestionnaireAttachForm,
    RosterUploadForm,
    SampleDrawForm,
    SampleSettingsForm,
    TokensIssueForm,
    UserActiveForm,
    WorkerCreateForm,
    choices,
)
from survey_app.extensions import db
from survey_app.labels import label
from survey_app.models import BackgroundJob, Campaign, Community, JobStatus, Role, Unit, User
from survey_app.security import role_required
from survey_app.services import (
    campaign_years,
    campaigns,
    contact_vault,
    jobs,
    questionnaire_versions,
    roster,
    roster_files,
    roster_template,
    sampling,
    tokens,
    unit_scope,
    units,
    users,
    visits,
)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _campaign_or_404(slug: str) -> Campaign:
    """The campaign, if it exists and lies in the admin's unit scope (else 404)."""
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None or not unit_scope.campaign_visible(current_user, campaign,
                                                           session=db.session):
        abort(404)
    return campaign


def _visible_accounts() -> list[User]:
    """The accounts this admin manages: every one, or those granted a unit in its scope."""
    accounts = db.session.exec(select(User).order_by(User.role, User.username)).all()
    return [a for a in accounts if unit_scope.user_visible(current_user, a, session=db.session)]


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    overview = [row for row in campaigns.campaign_overview(session=db.session)
                if unit_scope.campaign_visible(current_user, row.campaign, session=db.session)]
    return render_template("admin/index.html", overview=overview, accounts=_visible_accounts())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_campaign():
    form = CampaignCreateForm()
    if form.validate_on_submit():
        try:
            with db.write() as session:
                campaign = campaigns.create_campaign(
                    form.slug.data, form.title.data, form.year.data,
                    district=form.district.data or "", session=session, actor=current_user)
                scope = unit_scope.scope_of(current_user, session=session)
                if scope is not None:  # a county admin's campaign is its county's
                    units.assign_campaign(campaign, scope, session=session, actor=current_user)
                if form.builtin.data:
                    questionnaire_versions.attach_builtin_questionnaires(
                        campaign, session=session, actor=current_user)
        except campaigns.CampaignError as exc:
            form.slug.errors.append(str(exc))
        else:
            flash(_("Campaign created."), "success")
            return redirect(url_for("admin.campaign", slug=campaign.slug))
    return render_template("admin/campaign_new.html", form=form), 400 if form.errors else 200


def _settings_form(campaign: Campaign) -> IndicatorSettingsForm:
    current = campaigns.indicator_settings_of(campaign)
    return IndicatorSettingsForm(
        measure=current.measure, target=current.target, points=current.points,
        rule=current.rule, deduction_per_point=current.deduction_per_point,
        floor=current.floor, whole_points=current.whole_points,
        bands=", ".join(f"{t:g}:{p:g}" for t, p in current.bands),
        double_entry=campaign.double_entry, duplicate_rule=campaign.duplicate_rule)


def previous_form(campaign: Campaign, **kwargs) -> CampaignPreviousForm:
    """The predecessor form: campaigns of earlier years to choose from, or none (0)."""
    form = CampaignPreviousForm(previous_id=campaign.previous_campaign_id or 0, **kwargs)
    form.previous_id.choices = choices(
        [(0, _("none"))] + [(c.id, f"{c.title} ({c.slug}, {c.year})") for c in
                            campaign_years.earlier_campaigns(campaign, session=db.session)
                            if unit_scope.campaign_visible(current_user, c,
                                                           session=db.session)])
    return form


def _render_campaign(campaign: Campaign, status: int = 200, **forms):
    """The campaign page; ``forms`` replaces a blank form with a rejected one (its values
    and errors kept)."""
    versions = questionnaire_versions.list_versions(session=db.session)
    unit = db.session.get(Unit, campaign.unit_id) if campaign.unit_id else None
    attach = forms.pop("attach_form", None) or QuestionnaireAttachForm(formdata=None)
    # A built-in questionnaire is named by its household group's code: shown by its label.
    attach.version_id.choices = choices((v.id, f"{label(v.name)} v{v.version}")
                                        for v in versions)
    defaults = {
        "dates_form": CampaignDatesForm(formdata=None, obj=campaign),
        "settings_form": _settings_form(campaign) if "settings_form" not in forms else None,
        "roster_form": RosterUploadForm(formdata=None),
        "sample_settings_form": SampleSettingsForm(
            formdata=None, confidence=campaign.sample_confidence, margin=campaign.sample_margin,
            response_rate=campaign.expected_response_rate),
        "draw_form": SampleDrawForm(formdata=None),
        "tokens_form": TokensIssueForm(formdata=None),
        "status_form": CampaignStatusForm(formdata=None),
        "letter_form": CampaignLetterForm(formdata=None, obj=campaign),
        "unit_form": CampaignUnitForm(formdata=None, code=unit.code if unit else ""),
        "previous_form": previous_form(campaign, formdata=None),
        "letters_job_form": LettersJobForm(formdata=None),
    }
    defaults.update(forms)
    recent = jobs.recent_jobs(campaign, current_user, session=db.session,
                              kinds=("letters", "roster"))
    plans = sampling.plan_sample(campaign, session=db.session)
    return render_template(
        "admin/campaign.html", campaign=campaign, attach_form=attach, unit=unit,
        attached=questionnaire_versions.attached_versions(campaign, session=db.session),
        plans=plans, formula=plans[0].size.formula if plans else None,
        group_values=roster_template.accepted_group_values(
            chinese_only=str(get_locale()).startswith("zh")),
        responses=campaigns.has_responses(campaign, session=db.session),
        live_tokens=tokens.live_token_count(campaign, session=db.session),
        sampled=len(sampling.sampled_households(campaign, session=db.session)),
        contacts=contact_vault.vault_summary(campaign, session=db.session),
        public_base_url=current_app.config["PUBLIC_BASE_URL"],
        address_problems=address_problems(),
        recent_jobs=recent, roster_report=_roster_report(recent),
        job_labels={"letters": _("Letters archive (ZIP)"),
                    "roster": _("Roster import report (CSV)")}, beijing=visits.beijing,
        **defaults), status


def _roster_report(recent: list[BackgroundJob]):
    """The report of the user's latest roster job once it is done (the page shows what a
    background import did, as it shows an immediate one's)."""
    from survey_app.services import job_kinds
    from survey_app.services.job_runner import files_dir

    job = next((j for j in recent if j.kind == "roster"), None)
    if job is None or job.status != JobStatus.DONE or not job.result_path:
        return None
    path = files_dir(current_app.config, current_app.instance_path) / job.result_path
    return job_kinds.read_roster_report(path) if path.is_file() else None


@bp.route("/campaigns/<slug>")
@role_required(Role.ADMIN)
def campaign(slug: str):
    return _render_campaign(_campaign_or_404(slug))


def _done(campaign: Campaign, message: str):
    """After a write that went through (``db.write()`` committed it)."""
    flash(message, "success")
    return redirect(url_for("admin.campaign", slug=campaign.slug))


def _refused(campaign: Campaign, message: str):
    """After a write a service refused (``db.write()`` rolled it back)."""
    flash(message, "error")
    return redirect(url_for("admin.campaign", slug=campaign.slug))


@bp.route("/campaigns/<slug>/status", methods=["POST"])
@role_required(Role.ADMIN)
def campaign_status(slug: str):
    campaign = _campaign_or_404(slug)
    form = CampaignStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.write() as session:
            campaigns.set_status(campaign, form.status.data, session=session,
                                 actor=current_user)
    except campaigns.CampaignError as exc:
        return _refused(campaign, str(exc))
    return _done(campaign, _("Campaign status changed."))


@bp.route("/campaigns/<slug>/dates", methods=["POST"])
@role_required(Role.ADMIN)
def campaign_dates(slug: str):
    campaign = _campaign_or_404(slug)
    form = CampaignDatesForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, dates_form=form)
    with db.write() as session:
        campaigns.set_dates(campaign, form.opens_on.data, form.closes_on.data, session=session,
                            actor=current_user)
    return _done(campaign, _("Dates saved."))


@bp.route("/campaigns/<slug>/unit", methods=["POST"])
@role_required(Role.ADMIN)
def campaign_unit(slug: str):
    campaign = _campaign_or_404(slug)
    form = CampaignUnitForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, unit_form=form)
    unit = units.unit_by_code(form.code.data, session=db.session) if form.code.data else None
    if form.code.data and unit is None:
        form.code.errors.append(_("No region has this code; import the regions first "
                                  "(survey-app regions import)."))
        return _render_campaign(campaign, 400, unit_form=form)
    if (unit is None and unit_scope.scope_of(current_user, session=db.session) is not None) \
            or (unit is not None and not unit_scope.unit_visible(current_user, unit,
                                                                 session=db.session)):
        # A scoped admin would lose the campaign (or hand it to another county).
        form.code.errors.append(_("Choose a region within your own."))
        return _render_campaign(campaign, 400, unit_form=form)
    with db.write() as session:
        units.assign_campaign(campaign, unit, session=session, actor=current_user)
    return _done(campaign, _("Region saved."))


@bp.route("/campaigns/<slug>/questionnaires", methods=["POST"])
@role_required(Role.ADMIN)
def attach_questionnaire(slug: str):
    campaign = _campaign_or_404(slug)
    form = QuestionnaireAttachForm()
    form.version_id.choices = choices((v.id, label(v.name)) for v in
                                      questionnaire_versions.list_versions(session=db.session))
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, attach_form=form)
    version = next(v for v in questionnaire_versions.list_versions(session=db.session)
                   if v.id == form.version_id.data)
    try:
        with db.write() as session:
            questionnaire_versions.attach_questionnaire(campaign, form.group.data, version,
                                                        session=session, actor=current_user)
    except questionnaire_versions.VersionInUseError as exc:
        return _refused(campaign, str(exc))
    return _done(campaign, _("Questionnaire attached."))


@bp.route("/campaigns/<slug>/settings", methods=["POST"])
@role_required(Role.ADMIN)
def campaign_settings(slug: str):
    campaign = _campaign_or_404(slug)
    form = IndicatorSettingsForm()
    if form.validate_on_submit():
        try:
            settings = campaigns.check_indicator_settings(
                measure=form.measure.data, target=form.target.data, points=form.points.data,
                rule=form.rule.data, deduction_per_point=form.deduction_per_point.data,
                floor=form.floor.data or 0.0, whole_points=form.whole_points.data,
                bands=campaigns.parse_bands(form.bands.data or ""))
        except campaigns.CampaignError as exc:
            form.rule.errors.append(str(exc))
        else:
            with db.write() as session:
                campaigns.update_settings(campaign, settings, session=session,
                                          double_entry=form.double_entry.data,
                                          duplicate_rule=form.duplicate_rule.data,
                                          actor=current_user)
            return _done(campaign, _("Indicator settings saved."))
    return _render_campaign(campaign, 400, settings_form=form)


@bp.route("/campaigns/<slug>/roster", methods=["POST"])
@role_required(Role.ADMIN)
def upload_roster(slug: str):
    campaign = _campaign_or_404(slug)
    form = RosterUploadForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, roster_form=form)
    upload = form.roster.data
    data = upload.read()
    try:
        columns = roster_files.parse_column_mapping(form.columns.data or "")
        if len(data) > current_app.config["JOB_ROSTER_BYTES"]:
            return _roster_job(campaign, upload.filename or "", data, form.columns.data or "")
        rows = roster_files.read_roster_file(upload.filename or "", data, columns=columns)
        with db.write() as session:
            result = roster.import_roster(campaign, rows, session=session,
                                          pii_key=current_app.config["PII_KEY"],
                                          contact_key=current_app.config["CONTACT_KEY"],
                                          actor=current_user)
    except roster.RosterImportError as exc:
        return _render_campaign(campaign, 400, roster_form=form, roster_problems=exc.problems)
    return _done(campaign, _("Imported %(count)d households.", count=result.households))


def _roster_job(campaign: Campaign, filename: str, data: bytes, columns: str):
    """A large roster: imported by a background job (its upload sealed beside it)."""
    from survey_app import job_queue
    from survey_app.services import job_uploads
    from survey_app.services.job_runner import files_dir

    folder = files_dir(current_app.config, current_app.instance_path)
    try:
        with db.write() as session:
            job = jobs.create_job("roster", {"filename": filename, "columns": columns,
                                             "actor_id": current_user.id},
                                  session=session, actor=current_user, campaign=campaign,
                                  action="roster.upload", details={"bytes": len(data)},
                                  max_pending=current_app.config["JOB_MAX_PENDING_PER_USER"])
            job_id = job.id
            job_uploads.store(folder, job_id, data, secret=current_app.config["CONTACT_KEY"])
    except jobs.JobLimitReached as limit:
        job_queue.nudge_pending(current_user)
        return _refused(campaign, limit.message())
    job_queue.deliver([job_id])
    flash(_("The roster is being imported in the background; its report appears below."),
          "success")
    return redirect(url_for("admin.campaign", slug=campaign.slug) + f"#job-{job_id}")


@bp.route("/roster-template.<fmt>")
@role_required(Role.ADMIN)
def roster_template_file(fmt: str):
    """The roster template with Chinese headers, examples and the accepted 类别 values."""
    builders = {"csv": (roster_template.template_csv, "text/csv; charset=utf-8"),
                "xlsx": (roster_template.template_xlsx, XLSX_TYPE)}
    if fmt not in builders:
        abort(404)
    build, mimetype = builders[fmt]
    return send_file(io.BytesIO(build()), mimetype=mimetype, as_attachment=True,
                     download_name=f"roster-template.{fmt}")


@bp.route("/campaigns/<slug>/sample/settings", methods=["POST"])
@role_required(Role.ADMIN)
def sample_settings(slug: str):
    campaign = _campaign_or_404(slug)
    form = SampleSettingsForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, sample_settings_form=form)
    try:
        with db.write() as session:
            sampling.set_sample_settings(
                campaign, session=session, confidence=form.confidence.data,
                margin=form.margin.data, response_rate=form.response_rate.data,
                actor=current_user)
    except sampling.SampleError as exc:
        return _refused(campaign, str(exc))
    return _done(campaign, _("Planning settings saved."))


@bp.route("/campaigns/<slug>/sample/draw", methods=["POST"])
@role_required(Role.ADMIN)
def draw_sample(slug: str):
    campaign = _campaign_or_404(slug)
    form = SampleDrawForm()
    if not form.validate_on_submit():
        return _render_campaign(campaign, 400, draw_form=form)
    try:
        with db.write() as session:
            plans = sampling.draw_sample(campaign, form.seed.data, session=session,
                                         redraw=form.confirm_redraw.data, actor=current_user)
    except sampling.SampleError as exc:
        return _refused(campaign, str(exc))
    return _done(campaign, _("Drew %(count)d households with seed %(seed)d.",
                             count=sum(p.contacts for p in plans), seed=form.seed.data))


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def workers():
    form = WorkerCreateForm()
    # A county admin's workers work in its county: its communities only.
    communities = unit_scope.visible_communities(current_user, session=db.session)
    form.community.choices = choices((c.code, f"{c.name} ({c.code})") for c in communities)
    if form.validate_on_submit():
        try:
            with db.write() as session:
                worker = users.create_user(
                    form.username.data, form.password.data, Role.WORKER,
                    community_code=form.community.data,
                    display_name=form.display_name.data or "", session=session,
                    actor=current_user)
                scope = unit_scope.scope_of(current_user, session=session)
                if scope is not None:  # a county admin's workers work in its county
                    unit_scope.grant_unit(worker, scope, session=session, actor=current_user)
        except users.UserError as exc:
            form.username.errors.append(str(exc))
        else:
            flash(_("Worker account created."), "success")
            return redirect(url_for("admin.workers"))
    accounts = _visible_accounts()
    # The listed accounts' own communities (in the admin's scope, whatever the choices).
    names = dict(db.session.exec(select(Community.id, Community.name)).all())
    return render_template("admin/users.html", form=form, accounts=accounts, names=names,
                           active_form=UserActiveForm(formdata=None)), \
        400 if form.errors else 200


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required(Role.ADMIN)
def set_active(user_id: int):
    form = UserActiveForm()
    user = db.session.get(User, user_id)
    if user is None or not unit_scope.user_visible(current_user, user, session=db.session):
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.write() as session:
            users.set_user_active(user, form.active.data == "1", session=session,
                                  actor=current_user)
    except users.UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.workers"))
    flash(_("Account updated."), "success")
    return redirect(url_for("admin.workers"))
