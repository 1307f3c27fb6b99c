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

from survey_app import row_security
from survey_app.convention_texts import readable_conventions, rule_explanation
from survey_app.evaluate import bp
from survey_app.evaluate.forms import (
    CommentRedactForm,
    CommentRevealForm,
    IndicatorNotesForm,
    JobStartForm,
    QualityDecisionForm,
    QualityFilterForm,
    ReportTemplateResetForm,
    ReportTemplateUploadForm,
    ResponseExcludeForm,
    ResponseRestoreForm,
    ScoreFilterForm,
)
from survey_app.extensions import db
from survey_app.models import Project, Role
from survey_app.security import LARGEST_ROW_ID, asked_on_this_site, role_required
from survey_app.services import (
    audit,
    audit_chain,
    backchecks,
    bulk_exclusion,
    campaigns,
    charts,
    comment_privacy,
    dashboard_totals,
    indicator_table,
    jobs,
    quality_flags,
    quality_review,
    report,
    report_settings,
    response_view,
    score_cache,
    unit_scope,
    units,
    visits,
)
from survey_app.services.score_filters import ScoreFilters

EVALUATORS = (Role.EVALUATOR, Role.ADMIN)


def _campaign_or_404(slug: str):
    """The campaign, if it exists and lies in the evaluator's unit scope (else 404)."""
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None or not unit_scope.campaign_visible(current_user, campaign,
                                                           session=db.session):
        abort(404)
    return campaign


def _filters():
    form = ScoreFilterForm(formdata=MultiDict(request.args))
    valid = form.validate() if request.args else True
    return form, (form.to_filters() if valid else ScoreFilters())


@bp.route("/")
@role_required(*EVALUATORS)
def index():
    session = db.session
    overview = [row for row in campaigns.campaign_overview(session=session)
                if unit_scope.campaign_visible(current_user, row.campaign, session=session)]
    regions = [(unit, years) for unit, years in units.rollup_index(session=session)
               if unit_scope.unit_visible(current_user, unit, session=session)]
    return render_template("evaluate/index.html", overview=overview, regions=regions)


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
    backcheck = backchecks.results(campaign, session=db.session)
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
        is not None, backcheck=backcheck,
        backcheck_flagged="、".join(backcheck.names[w.worker] for w in backcheck.summary.flagged)
        if backcheck else "", job_form=JobStartForm(),
        recent_jobs=jobs.recent_jobs(campaign, current_user, session=db.session),
        beijing=visits.beijing, project_names=_project_names(campaign))


def _project_names(campaign) -> list[tuple[str, str]]:
    """(code, name) of the campaign's projects, offered beside the project-code filter."""
    from sqlmodel import select

    return [tuple(row) for row in db.session.exec(
        select(Project.code, Project.name).where(Project.campaign_id == campaign.id)
        .order_by(Project.code)).all()]


@bp.route("/<slug>/export/<fmt>")
@role_required(*EVALUATORS)
@asked_on_this_site
def export(slug: str, fmt: str):
    # The counted-data read path and the exporters (numpy, the statistics, openpyxl) are
    # imported by the first export, not when the blueprint is registered: resident and
    # entry workers never load them (docs/BENCHMARKS.md, "Start-up and memory").
    from survey_app.services import counted_data, exports

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
    scope = row_security.current_path()

    def chunks():
        # The app context's teardown closes the session before the body streams; the
        # stream reuses it, so it must end its own transaction (and free the connection).
        # The teardown also forgets the request's row-security scope: without it again the
        # stream's transaction would read nothing (fails closed) and send a header only.
        try:
            with row_security.acting_as(scope or ""):
                yield from exports.export_chunks(campaign, fmt, session=session,
                                                 filters=filters)
        finally:
            session.close()

    return Response(stream_with_context(chunks()), mimetype=exports.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition":
                             f"attachment; filename={exports.filename(campaign, fmt)}",
                             "Cache-Control": "no-store"})


@bp.route("/<slug>/report.docx")
@role_required(*EVALUATORS)
@asked_on_this_site
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
    try:
        data = report.build_report(campaign, doc, session=db.session, chain_head=head)
    except report_settings.ReportSettingsError as exc:
        # The uploaded template no longer renders (stored before the sandbox refused it, or
        # a placeholder this filter leaves out): say so where it is replaced, not a 500.
        flash(str(exc), "error")
        return _to_indicator_table(slug)
    return Response(data, mimetype=report.CONTENT_TYPE, headers={
        "Content-Disposition": f"attachment; filename={campaign.slug}-report.docx",
        "Cache-Control": "no-store"})


def _quality_filters():
    form = QualityFilterForm(formdata=MultiDict(request.args))
    form.community.choices = [("", _("All"))] + [
        (c.code, c.name) for c in unit_scope.visible_communities(current_user, session=db.session)]
    valid = form.validate() if request.args else True
    return form, (form.to_filters() if valid else quality_review.ReviewFilters())


@bp.route("/<slug>/quality")
@role_required(*EVALUATORS)
def quality(slug: str):
    campaign = _campaign_or_404(slug)
    form, filters = _quality_filters()
    page = quality_review.flagged_page(
        campaign, filters, session=db.session, page=(form.page.data or 1) if not form.errors
        else 1, flags=score_cache.cached_campaign_flags(campaign, session=db.session))
    decision = QualityDecisionForm(formdata=None, data={
        "flag": filters.kind, "community": filters.community or "", "mode": filters.mode or "",
        "decided": form.decided.data if not form.errors else "",
        "through": page.through, "listed": page.digest})
    return render_template("evaluate/quality.html", campaign=campaign, form=form, page=page,
                           filters=filters, decision=decision,
                           args={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/<slug>/quality/decisions", methods=["POST"])
@role_required(*EVALUATORS)
def quality_decisions(slug: str):
    campaign = _campaign_or_404(slug)
    form = QualityDecisionForm()
    back = {k: v for k, v in (("flag", form.flag.data), ("community", form.community.data),
                              ("mode", form.mode.data), ("decided", form.decided.data)) if v}
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("evaluate.quality", slug=slug, **back))
    try:
        with db.write() as session:
            result = bulk_exclusion.decide_flagged(
                campaign, form.flag.data, exclude=bool(form.exclude.data),
                reason=form.reason.data, actor=current_user, session=session,
                filters=form.to_filters(), listed=form.listing(),
                flags=score_cache.cached_campaign_flags(campaign, session=session))
    except bulk_exclusion.BulkExclusionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("evaluate.quality", slug=slug, **back))
    if result.excluded:
        flash(_("%(n)s responses excluded; %(already)s were already excluded.",
                n=len(result.changed), already=result.already))
    else:
        flash(_("%(n)s responses counted again, %(kept)s kept as counted; %(already)s were "
                "already counted and decided.", n=len(result.changed), kept=len(result.kept),
                already=result.already))
    return redirect(url_for("evaluate.quality", slug=slug, **back))


@bp.route("/<slug>/responses/<int:response_id>")
@role_required(*EVALUATORS)
def response_detail(slug: str, response_id: int):
    return _response_page(_campaign_or_404(slug), response_id)


def _response_page(campaign, response_id: int, *, originals=None, redact_form=None,
                   status: int = 200):
    detail = response_view.response_detail(campaign, response_id, session=db.session,
                                           locale=str(get_locale() or "zh"),
                                           originals=originals)
    if detail is None:
        abort(404)
    flags = quality_flags.response_flags(detail.response, session=db.session)
    page = render_template(
        "evaluate/response.html", campaign=campaign, detail=detail, flags=flags,
        exclude_form=ResponseExcludeForm(), reveal_form=CommentRevealForm(formdata=None),
        redact_form=redact_form or CommentRedactForm(formdata=None),
        may_reveal=current_user.role == Role.EVALUATOR, beijing=visits.beijing)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/<slug>/comments")
@role_required(*EVALUATORS)
def comments(slug: str):
    campaign = _campaign_or_404(slug)
    # Past the last page shows none; past the database's integers would be a server error.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), LARGEST_ROW_ID)
    rows, total = comment_privacy.comment_page(campaign, page, session=db.session)
    pages = max((total + comment_privacy.COMMENTS_PER_PAGE - 1)
                // comment_privacy.COMMENTS_PER_PAGE, 1)
    return render_template("evaluate/comments.html", campaign=campaign, rows=rows,
                           total=total, page=page, pages=pages)


@bp.route("/<slug>/responses/<int:response_id>/reveal", methods=["POST"])
@role_required(Role.EVALUATOR)
def reveal_comment(slug: str, response_id: int):
    """The free text as typed, on this page only (a POST: never in a URL, history or
    cache); the reason is audited."""
    campaign = _campaign_or_404(slug)
    form = CommentRevealForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("evaluate.response_detail", slug=slug, response_id=response_id))
    try:
        with db.write() as session:
            originals = comment_privacy.reveal_originals(
                campaign, response_id, reason=form.reason.data, actor=current_user,
                session=session)
    except comment_privacy.CommentPrivacyError as exc:
        flash(str(exc), "error")
        return redirect(url_for("evaluate.response_detail", slug=slug, response_id=response_id))
    return _response_page(campaign, response_id, originals=originals)


@bp.route("/<slug>/responses/<int:response_id>/redaction", methods=["POST"])
@role_required(*EVALUATORS)
def redact_comment(slug: str, response_id: int):
    campaign = _campaign_or_404(slug)
    form = CommentRedactForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _response_page(campaign, response_id, redact_form=form, status=400)
    try:
        with db.write() as session:
            comment_privacy.redact_comment(
                campaign, response_id, fragments=form.fragment_list(),
                withhold_all=form.withhold_all.data, reason=form.reason.data,
                actor=current_user, session=session)
    except comment_privacy.CommentPrivacyError as exc:
        flash(str(exc), "error")
        return _response_page(campaign, response_id, redact_form=form, status=400)
    flash(_("Redaction of response %(id)s saved; every export, report and page uses it.",
            id=response_id))
    return redirect(url_for("evaluate.response_detail", slug=slug, response_id=response_id))


@bp.route("/<slug>/responses/<int:response_id>/exclusion", methods=["POST"])
@role_required(*EVALUATORS)
def set_exclusion(slug: str, response_id: int):
    campaign = _campaign_or_404(slug)
    excluding = request.form.get("action") != "restore"
    form = ResponseExcludeForm() if excluding else ResponseRestoreForm()
    back = url_for("evaluate.response_detail", slug=slug, response_id=response_id)
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(back)
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
    return redirect(back)


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
