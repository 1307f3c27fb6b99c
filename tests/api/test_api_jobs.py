"""Exports as background jobs through the API: started (202, audited), polled, downloaded by
their requester only; every answer conforms to the OpenAPI document."""

from __future__ import annotations

import hashlib
import typing

import pytest
from sqlmodel import select

from survey_app import job_queue
from survey_app.api.schemas import ExportFormat
from survey_app.extensions import db
from survey_app.models import AuditEvent, BackgroundJob, JobStatus, Role
from survey_app.services import (
    api_tokens,
    campaigns,
    demo,
    demo_region,
    exports,
    unit_scope,
    units,
)
from tests.api.test_api import _conforms
from tests.factories import make_user

pytestmark = pytest.mark.demo_data
EXPORTS = f"/api/v1/campaigns/{demo.SLUG}/exports"


@pytest.fixture
def job_app(make_app, tmp_path):
    """Jobs stay queued until the test runs them (TEST_SETTINGS: not inline)."""
    return make_app(JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_LEASE_SECONDS=600)


def _bearer(session, role=Role.EVALUATOR, unit_code: str | None = None) -> dict:
    user = make_user(session, role)
    if unit_code:
        unit_scope.grant_unit(user, units.unit_by_code(unit_code, session=session),
                              session=session)
    return {"Authorization": f"Bearer {api_tokens.create_api_token(user, session=session)}"}


def test_an_export_job_starts_runs_and_downloads_for_its_requester_only(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        session = db.session
        owner, other = _bearer(session), _bearer(session, Role.ADMIN)
        started = client.post(EXPORTS, json={"format": "csv"}, headers=owner)
        assert started.status_code == 202, started.get_json()
        doc = started.get_json()
        _conforms(doc, "Job")
        assert started.headers["Location"] == f"/api/v1/jobs/{doc['id']}"
        assert doc["state"] == "queued" and doc["download"] is None and doc["sha256"] is None
        job = session.get(BackgroundJob, doc["id"])
        event = session.get(AuditEvent, job.audit_event_id)
        assert event.action == "export.csv" and event.details["via"] == "api"
        assert event.details["job"] == job.id and job.params["snapshot"]

        status = client.get(started.headers["Location"], headers=owner)
        assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
        _conforms(status.get_json(), "Job")
        early = client.get(f"/api/v1/jobs/{job.id}/download", headers=owner)
        assert early.status_code == 409
        _conforms(early.get_json(), "Error")

        assert job_queue.run_now(job.id) == "done"
        doc = client.get(f"/api/v1/jobs/{job.id}", headers=owner).get_json()
        _conforms(doc, "Job")
        assert doc["state"] == "done" and doc["done"] == doc["total"] > 0
        assert doc["name"] == "heshan-2021-responses.csv"
        assert doc["download"] == f"/api/v1/jobs/{job.id}/download"
        download = client.get(doc["download"], headers=owner)
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == doc["sha256"]
        assert len(download.data) == doc["size"]
        campaign = campaigns.get_campaign(demo.SLUG, session=session)
        assert download.data == b"".join(exports.export_chunks(campaign, "csv",
                                                               session=session))
        download.close()

        # Another account, even an admin: the job does not exist for it.
        for path in (f"/api/v1/jobs/{job.id}", f"/api/v1/jobs/{job.id}/download"):
            answer = client.get(path, headers=other)
            assert answer.status_code == 404
            _conforms(answer.get_json(), "Error")
        assert client.get(f"/api/v1/jobs/{job.id}").status_code == 401


def test_an_export_job_with_filters_exports_what_the_filters_select(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        headers = _bearer(db.session)
        started = client.post(EXPORTS, headers=headers, json={
            "format": "xlsx", "filters": {"community": "HS-THL", "mode": "paper"}})
        assert started.status_code == 202
        job = db.session.get(BackgroundJob, started.get_json()["id"])
        assert job.params["filters"]["community"] == "HS-THL"
        assert job.params["filters"]["mode"] == "paper"
        assert job_queue.run_now(job.id) == "done"
        download = client.get(f"/api/v1/jobs/{job.id}/download", headers=headers)
        assert download.data[:2] == b"PK"
        download.close()


@pytest.mark.parametrize("body, fields", [
    (None, {"format"}),
    ({}, {"format"}),
    ({"format": "pdf"}, {"format"}),
    ({"format": "csv", "filters": {"colour": "red"}}, {"filters.colour"}),
    ({"format": "csv", "filters": {"mode": "fax"}}, {"filters.mode"}),
    ({"format": "csv", "filters": {"date_from": "2021-12-01", "date_to": "2021-11-01"}},
     {"date_to"}),
])
def test_a_bad_export_request_is_400_and_starts_nothing(job_app, body, fields):
    client = job_app.test_client()
    with job_app.app_context():
        headers = _bearer(db.session)
        answer = client.post(EXPORTS, json=body, headers=headers) if body is not None \
            else client.post(EXPORTS, data="not json", headers=headers)
        assert answer.status_code == 400
        _conforms(answer.get_json(), "Error")
        assert set(answer.get_json()["fields"]) == fields
        assert db.session.exec(select(BackgroundJob)).all() == []


def test_another_countys_evaluator_cannot_start_or_see_an_export(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        session = db.session
        county = _bearer(session, unit_code=demo_region.HESHAN_UNIT)
        other_county = _bearer(session, unit_code="430922")  # 桃江县
        assert client.post(EXPORTS, json={"format": "csv"},
                           headers=other_county).status_code == 404
        started = client.post(EXPORTS, json={"format": "csv"}, headers=county)
        assert started.status_code == 202
        job_id = started.get_json()["id"]
        assert client.get(f"/api/v1/jobs/{job_id}", headers=other_county).status_code == 404
        assert client.get(f"/api/v1/jobs/{job_id}", headers=county).status_code == 200
        assert session.exec(select(BackgroundJob)).one().status == JobStatus.QUEUED


def test_a_worker_token_cannot_start_an_export(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        answer = client.post(EXPORTS, json={"format": "csv"},
                             headers=_bearer(db.session, Role.WORKER))
        assert answer.status_code == 403


def test_the_documented_formats_are_the_exporters():
    assert set(typing.get_args(ExportFormat)) == set(exports.EXPORTERS)


def test_an_export_over_the_users_job_limit_is_429_and_writes_nothing(make_app, tmp_path):
    app = make_app(JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_LEASE_SECONDS=600,
                   JOB_MAX_PENDING_PER_USER=2)
    client = app.test_client()
    with app.app_context():
        session = db.session
        headers = _bearer(session)
        for _ in range(2):
            assert client.post(EXPORTS, json={"format": "csv"},
                               headers=headers).status_code == 202
        jobs_before = len(session.exec(select(BackgroundJob)).all())
        events_before = len(session.exec(select(AuditEvent)).all())
        refused = client.post(EXPORTS, json={"format": "csv"}, headers=headers)
        assert refused.status_code == 429
        _conforms(refused.get_json(), "Error")
        assert "2 of your jobs" in refused.get_json()["message"]
        assert len(session.exec(select(BackgroundJob)).all()) == jobs_before
        assert len(session.exec(select(AuditEvent)).all()) == events_before


def test_an_export_refused_over_the_limit_restarts_jobs_cut_off_by_a_server_stop(
        make_app, tmp_path, monkeypatch):
    """As the dashboard does: in inline mode an API client whose jobs died with the web
    process (queued, given to a thread that never claimed them) is not locked out for good."""
    from datetime import timedelta

    from survey_app.models import utcnow
    from survey_app.services import jobs

    app = make_app(JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_LEASE_SECONDS=60,
                   JOB_RUN_INLINE=True, JOB_MAX_PENDING_PER_USER=2)
    started = []
    monkeypatch.setattr(job_queue, "_start_inline", lambda _app, job_id: started.append(job_id))
    client = app.test_client()
    with app.app_context():
        session = db.session
        user = make_user(session)
        token = api_tokens.create_api_token(user, session=session)
        lost = []
        for _ in range(2):
            job = jobs.create_job("export", {"format": "csv"}, session=session, actor=user,
                                  campaign=None, action="export.csv")
            job.enqueued_at = utcnow() - timedelta(minutes=5)  # given to a thread long ago
            session.add(job)
            lost.append(job.id)
        session.commit()
        refused = client.post(EXPORTS, json={"format": "csv"},
                              headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 429, refused.get_json()
        assert "2 of your jobs" in refused.get_json()["message"]
        assert sorted(started) == sorted(lost)
