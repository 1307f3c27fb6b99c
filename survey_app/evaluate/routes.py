from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from survey_app.convention_texts import readable_conventions, rule_explanation
from survey_app.evaluate import bp
from survey_app.evaluate.forms import (
    IndicatorNotesForm,
    ReportTemplateResetForm,
    ReportTemplateUploadForm,
    ResponseExcludeForm,
    ResponseRestoreForm,
    ScoreFilterForm,
)
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.security import role_required
from survey_app.services import (
    audit,
    audit_chain,
    campaigns,
    charts,
    counted_data,
    dashboard_totals,
    exports,
    indicator_table,
    quality_flags,
    report,
    report_settings,
    response_view,
    score_cache,
)
from survey_app.services.score_filters import ScoreFilters

EVALUATORS = (Role.EVALUATOR, Role.ADMIN)


def _campaign_or_404(slug: str):
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        abort(404)
    return campaign


def _filters():
    form = ScoreFilterForm(formdata=MultiDict(request.args))
    valid = form.validate() if request.args else True
    return form, (form.to_filters() if valid else ScoreFilters())


@bp.route("/")
@role_required(*EVALUATORS)
def index():
    overview = campaigns.campaign_overview(session=db.session)
    return render_template("evaluate/index.html", overview=overview)


@bp.route("/<slug>")
@role_required(*EVALUATORS)
def dashboard(slug: str):
    campaign = _campaign_or_404(slug)
    form, filters = _filters()
    # One data-version read for every cached part of the page (documents, progress, charts).
    version = score_cache.data_version(campaign, session=db.session)
    doc = score_cache.cached_scores_document(campaign, filters, session=db.session,
                                             version=version)
    # Beside it, only the indicator with the other treatment of exclusions.
    other = score_cache.cached_indicator_document(
        campaign, ScoreFilters(**{**filters.__dict__,
                                  "include_excluded": not filters.include_excluded}),
        session=db.session, version=version)
    progress = score_cache.cached_progress_document(campaign, session=db.session,
                                                    version=version)
    target = campaign.indicator_target if campaign.indicator_measure == "rate" else None
    figures = score_cache.cached_figures(campaign, filters, ("dashboard", target), version,
                                         lambda: charts.dashboard_figures(doc, target),
                                         session=db.session)
    notes = report_settings.indicator_notes(campaign, session=db.session)
    return render_template(
        "evaluate/dashboard.html", campaign=campaign, form=form, doc=doc, other=other,
        progress=progress, progress_tables=dashboard_totals.progress_tables(progress),
        figures=figures, dim_labels=doc.dimension_labels(),
        conventions=readable_conventions(doc.conventions),
        rule_explanation=rule_explanation(campaign),
        indicator_rows=[indicator_table.display(r) for r in
                        indicator_table.indicator_rows(campaign, doc, session=db.session)],
        notes_form=IndicatorNotesForm(data=notes.__dict__),
        upload_form=ReportTemplateUploadForm(), reset_form=ReportTemplateResetForm(),
        custom_template=report_settings.custom_template(campaign, session=db.session)
        is not None)


@bp.route("/<slug>/export/<fmt>")
@role_required(*EVALUATORS)
def export(slug: str, fmt: str):
    campaign = _campaign_or_404(slug)
    if fmt not in exports.EXPORTERS:
        abort(404)
    _form, filters = _filters()
    snapshot = counted_data.counted_snapshot(campaign, filters, session=db.session)
    with db.write() as writing:
        audit.record("export." + fmt, "campaign", campaign.id, session=writing,
                     actor=current_user, campaign_id=campaign.id,
                     details={"format": fmt, "filters": filters.as_dict()})
        audit_chain.anchor_snapshot(campaign.id, snapshot, session=writing,
                                    label=audit.actor_label(current_user),
                                    purpose="export." + fmt)
    session = db.session  # back on the read engine: the export streams without the lock

    def chunks():
        # The app context's teardown closes the session before the body streams; the
        # stream reuses it, so it must end its own transaction (and free the connection).
        try:
            yield from exports.export_chunks(campaign, fmt, session=session, filters=filters)
        finally:
            session.close()

    return Response(stream_with_context(chunks()), mimetype=exports.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition":
                             f"attachment; filename={exports.filename(campaign, fmt)}",
                             "Cache-Control": "no-store"})


@bp.route("/<slug>/report.docx")
@role_required(*EVALUATORS)
def report_docx(slug: str):
    campaign = _campaign_or_404(slug)
    _form, filters = _filters()
    doc = score_cache.cached_scores_document(campaign, filters, session=db.session)
    with db.write() as writing:
        audit.record("export.report", "campaign", campaign.id, session=writing,
                     actor=current_user, campaign_id=campaign.id,
                     details={"format": "docx", "filters": filters.as_dict()})
        head = audit_chain.anchor_snapshot(campaign.id, doc.snapshot, session=writing,
                                           label=audit.actor_label(current_user),
                                           purpose="export.report").head
    data = report.build_report(campaign, doc, session=db.session, chain_head=head)
    return Response(data, mimetype=report.CONTENT_TYPE, headers={
        "Content-Disposition": f"attachment; filename={campaign.slug}-report.docx",
        "Cache-Control": "no-store"})


@bp.route("/<slug>/quality")
@role_required(*EVALUATORS)
def quality(slug: str):
    campaign = _campaign_or_404(slug)
    flagged = quality_flags.flag_responses(campaign, session=db.session)
    return render_template("evaluate/quality.html", campaign=campaign, flagged=flagged,
                           labels=quality_flags.FLAG_LABELS, exclude_form=ResponseExcludeForm(),
                           restore_form=ResponseRestoreForm())


@bp.route("/<slug>/responses/<int:response_id>")
@role_required(*EVALUATORS)
def response_detail(slug: str, response_id: int):
    campaign = _campaign_or_404(slug)
    detail = response_view.response_detail(campaign, response_id, session=db.session,
                                           locale=str(get_locale() or "zh"))
    if detail is None:
        abort(404)
    flags = next((f.flags for f in quality_flags.flag_responses(campaign, session=db.session)
                  if f.response_id == response_id), [])
    return render_template("evaluate/response.html", campaign=campaign, detail=detail,
                           flags=flags, labels=quality_flags.FLAG_LABELS)


@bp.route("/<slug>/responses/<int:response_id>/exclusion", methods=["POST"])
@role_required(*EVALUATORS)
def set_exclusion(slug: str, response_id: int):
    campaign = _campaign_or_404(slug)
    excluding = request.form.get("action") != "restore"
    form = ResponseExcludeForm() if excluding else ResponseRestoreForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("evaluate.quality", slug=slug))
    try:
        with db.write() as session:
            quality_flags.set_exclusion(response_id, campaign=campaign, excluded=excluding,
                                        reason=form.reason.data, actor=current_user,
                                        session=session)
    except quality_flags.ExclusionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("evaluate.quality", slug=slug))
    flash(_("Response %(id)s excluded.", id=response_id) if excluding
          else _("Response %(id)s is counted again.", id=response_id))
    return redirect(url_for("evaluate.quality", slug=slug))


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


def _to_indicator_table(slug: str):
    return redirect(url_for("evaluate.dashboard", slug=slug, _anchor="indicator-table"))


@bp.route("/<slug>/indicator-notes", methods=["POST"])
@role_required(*EVALUATORS)
def indicator_notes(slug: str):
    campaign = _campaign_or_404(slug)
    form = IndicatorNotesForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _to_indicator_table(slug)
    try:
        with db.write() as session:
            report_settings.save_indicator_notes(
                campaign, session=session, actor=current_user,
                deviation_note=form.deviation_note.data or "",
                first_level=form.first_level.data)
    except report_settings.ReportSettingsError as exc:
        flash(str(exc), "error")
        return _to_indicator_table(slug)
    flash(_("Indicator table saved."))
    return _to_indicator_table(slug)


@bp.route("/<slug>/report-template.docx")
@role_required(*EVALUATORS)
def report_template(slug: str):
    campaign = _campaign_or_404(slug)
    data = (report_settings.custom_template(campaign, session=db.session)
            or report.shipped_template())
    return Response(data, mimetype=report.CONTENT_TYPE, headers={
        "Content-Disposition": f"attachment; filename={campaign.slug}-report-template.docx",
        "Cache-Control": "no-store"})


@bp.route("/<slug>/report-template", methods=["POST"])
@role_required(*EVALUATORS)
def upload_report_template(slug: str):
    campaign = _campaign_or_404(slug)
    resetting = request.form.get("action") == "reset"
    form = ReportTemplateResetForm() if resetting else ReportTemplateUploadForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _to_indicator_table(slug)
    data = None if resetting else form.template.data.read()
    try:
        if data is not None:
            report.check_template(campaign, data, session=db.session)
        with db.write() as session:
            report_settings.save_template(campaign, data, session=session, actor=current_user)
    except report_settings.ReportSettingsError as exc:
        flash(str(exc), "error")
        return _to_indicator_table(slug)
    flash(_("The default report template is used again.") if resetting
          else _("Report template uploaded; reports now use it."))
    return _to_indicator_table(slug)
