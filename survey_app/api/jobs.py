"""Exports as background jobs through the API: start one (POST), poll its state and progress,
download its file once done.

The same jobs as the dashboard's (``services.jobs``): the job row, the snapshot's anchor
and the request's audit event are written in one transaction, the queue is told after the
commit. A job is visible only to the account that asked for it, and only while its
campaign stays in that account's unit scope: anyone else gets 404, as for a job that does
not exist. Its progress and file are read from the primary even where the API's other
reads go to a replica (a job just started is not on a lagging replica yet).
"""

from __future__ import annotations

from flask import abort, current_app, g, request, send_file, url_for
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from survey_app import job_queue
from survey_app.api import bp
from survey_app.api.routes import _campaign_or_404, _json, filter_errors
from survey_app.api.schemas import ApiError, ExportRequest, JobDocument
from survey_app.evaluate.forms import ScoreFilterForm
from survey_app.extensions import db
from survey_app.models import BackgroundJob, JobStatus
from survey_app.services import jobs
from survey_app.services.job_runner import files_dir

db.reads_primary("api.job_status", "api.job_download")


def job_document(job: BackgroundJob) -> JobDocument:
    done = job.status == JobStatus.DONE
    return JobDocument(
        id=job.id, kind=job.kind, state=job.status, done=job.progress_done,
        total=job.progress_total, attempts=job.attempts, error=job.error,
        name=job.result_name if done else None, sha256=job.result_sha256 if done else None,
        size=job.result_size if done else None, created_at=job.created_at,
        finished_at=job.finished_at,
        download=url_for("api.job_download", job_id=job.id) if done else None)


def _bad_request(message: str, fields: dict[str, list[str]]):
    return _json(ApiError(error="Bad Request", status=400, message=message, fields=fields), 400)


@bp.route("/campaigns/<slug>/exports", methods=["POST"])
def start_export(slug: str):
    """202 with the job's document (``Location``: where to poll it); 400 for a body that
    names no known format or invalid filters; 429 while the account has
    ``JOB_MAX_PENDING_PER_USER`` jobs unfinished (nothing written)."""
    from survey_app.services import counted_data

    campaign = _campaign_or_404(slug)
    body = request.get_json(silent=True)
    try:
        wanted = ExportRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        return _bad_request("invalid request body", {
            ".".join(map(str, e["loc"])) or "body": [e["msg"]] for e in exc.errors()})
    form = ScoreFilterForm(formdata=MultiDict(wanted.filters.model_dump(exclude_none=True)))
    if not form.validate():
        return _bad_request("invalid filters", filter_errors(form))
    filters = form.to_filters()
    snapshot = counted_data.counted_snapshot(campaign, filters, session=db.session)
    details = {"format": wanted.format, "filters": filters.as_dict()}
    try:
        with db.write() as session:
            job_id = jobs.create_snapshot_job(
                "export", details, session=session, actor=g.api_user, campaign=campaign,
                action="export." + wanted.format, snapshot=snapshot,
                details={**details, "via": "api"},
                max_pending=current_app.config["JOB_MAX_PENDING_PER_USER"]).id
    except jobs.JobLimitReached as limit:
        # Nothing written: poll the unfinished jobs, then ask again. As the dashboard does,
        # jobs cut off by a server stop (inline mode) start again, or they would hold the
        # slots for good.
        job_queue.nudge_pending(g.api_user)
        return _json(ApiError(error="Too Many Requests", status=429,
                              message=f"{limit.max_pending} of your jobs are still queued or "
                                      "running; start another once one has finished",
                              fields={}), 429)
    job_queue.deliver([job_id])
    job = db.session.get(BackgroundJob, job_id, populate_existing=True)
    response = _json(job_document(job), 202)
    response.headers["Location"] = url_for("api.job_status", job_id=job_id)
    return response


def _own_job_or_404(job_id: int) -> BackgroundJob:
    job = jobs.visible_job(job_id, g.api_user, session=db.session)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>")
def job_status(job_id: int):
    job = _own_job_or_404(job_id)
    job_queue.nudge(job)  # inline mode: a job whose thread died with its server runs again
    return _json(job_document(job))


@bp.route("/jobs/<int:job_id>/download")
def job_download(job_id: int):
    """The job's file (409 until it is done, 410 once a clean-up removed it)."""
    job = _own_job_or_404(job_id)
    if job.status != JobStatus.DONE:
        return _json(ApiError(error="Conflict", status=409,
                              message=f"the job is {job.status}, not done"), 409)
    path = files_dir(current_app.config, current_app.instance_path) / job.result_path
    if not path.is_file():
        abort(410)  # removed since (a clean-up): start the export again
    response = send_file(path, as_attachment=True, download_name=job.result_name,
                         conditional=False, etag=job.result_sha256)
    response.headers["Cache-Control"] = "no-store"
    return response
