"""Exports and the Word report as background jobs: start one (POST, audited with the job in
one transaction), poll its progress (JSON), download its file.

Only the user who asked for a job sees its progress and its file, and only while its
campaign is still in their unit scope; anyone else gets 404, as for a job that does not
exist. The dashboard lists the user's latest jobs with a progress bar (static/jobs.js).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey_app import job_queue
from survey_app.evaluate import bp
from survey_app.evaluate.forms import JobStartForm, filter_args
from survey_app.evaluate.routes import EVALUATORS, _campaign_or_404, _filters
from survey_app.extensions import db
from survey_app.models import Campaign, JobStatus
from survey_app.security import role_required
from survey_app.services import jobs
from survey_app.services.job_runner import files_dir

NO_STORE = {"Cache-Control": "no-store"}
# Polled right after the job was written: never from a replica that may lag behind it.
db.reads_primary("evaluate.job_status", "evaluate.job_download")


def _back_to_dashboard(slug: str, job_id: int):
    flash(_("The file is being prepared; it can be downloaded below when it is ready."),
          "success")
    return redirect(url_for("evaluate.dashboard", slug=slug, **filter_args(request.args))
                    + f"#job-{job_id}")


def _start(campaign: Campaign, kind: str, params: dict, action: str, snapshot: str,
           details: dict):
    """Write the job, the request's audit event and the snapshot's anchor in one
    transaction; hand the job to the queue once committed. Back to the dashboard, where
    the job is listed (or, with too many jobs of the user's unfinished, nothing written)."""
    try:
        with db.write() as session:
            job_id = jobs.create_snapshot_job(
                kind, params, session=session, actor=current_user, campaign=campaign,
                action=action, snapshot=snapshot, details=details,
                max_pending=current_app.config["JOB_MAX_PENDING_PER_USER"]).id
    except jobs.JobLimitReached as limit:
        job_queue.nudge_pending(current_user)
        flash(limit.message(), "error")
        return redirect(url_for("evaluate.dashboard", slug=campaign.slug,
                                **filter_args(request.args)))
    job_queue.deliver([job_id])
    return _back_to_dashboard(campaign.slug, job_id)


@bp.route("/<slug>/jobs/export/<fmt>", methods=["POST"])
@role_required(*EVALUATORS)
def start_export(slug: str, fmt: str):
    from survey_app.services import counted_data, exports

    campaign = _campaign_or_404(slug)
    if fmt not in exports.EXPORTERS:
        abort(404)
    if not JobStartForm().validate_on_submit():
        abort(400)
    _form, filters = _filters()
    snapshot = counted_data.counted_snapshot(campaign, filters, session=db.session)
    details = {"format": fmt, "filters": filters.as_dict()}
    return _start(campaign, "export", details, "export." + fmt, snapshot, details)


@bp.route("/<slug>/jobs/report", methods=["POST"])
@role_required(*EVALUATORS)
def start_report(slug: str):
    from survey_app.services import score_cache

    campaign = _campaign_or_404(slug)
    if not JobStartForm().validate_on_submit():
        abort(400)
    _form, filters = _filters()
    doc = score_cache.cached_scores_document(campaign, filters, session=db.session)
    details = {"format": "docx", "filters": filters.as_dict()}
    return _start(campaign, "report", {"filters": filters.as_dict()}, "export.report",
                  doc.snapshot, details)


def _own_job_or_404(job_id: int):
    job = jobs.visible_job(job_id, current_user, session=db.session)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>")
@role_required(*EVALUATORS)
def job_status(job_id: int):
    job = _own_job_or_404(job_id)
    job_queue.nudge(job)
    response = jsonify(jobs.status_document(
        job, download_url=url_for("evaluate.job_download", job_id=job.id)))
    response.headers.update(NO_STORE)
    return response


@bp.route("/jobs/<int:job_id>/download")
@role_required(*EVALUATORS)
def job_download(job_id: int):
    job = _own_job_or_404(job_id)
    if job.status != JobStatus.DONE:
        abort(404)
    path = files_dir(current_app.config, current_app.instance_path) / job.result_path
    if not path.is_file():
        abort(410)  # removed since (a cleanup): ask for it again
    response = send_file(path, as_attachment=True, download_name=job.result_name,
                         conditional=False, etag=job.result_sha256)
    response.headers.update(NO_STORE)
    return response
