"""The dashboard carries its filters into the job buttons and back, and only its filters: a
stray parameter that names a route argument (``?slug=...`` typed or pasted into the address)
once made the dashboard, the job start and the refusal redirect a server error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from survey_app.services import demo
from tests.factories import login, make_user

pytestmark = pytest.mark.demo_data


@pytest.fixture
def job_app(make_app, tmp_path):
    return make_app(JOB_FILES_DIR=str(tmp_path), JOB_LEASE_SECONDS=600,
                    JOB_MAX_PENDING_PER_USER=1)


def test_a_stray_slug_parameter_is_dropped_and_the_filters_kept(job_app):
    client = job_app.test_client()
    with job_app.app_context():
        from survey_app.extensions import db

        login(client, make_user(db.session))
        query = "?group=rental_subsidy&slug=ziyang-2021&fmt=docx"
        page = client.get(f"/evaluate/{demo.SLUG}{query}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f"/evaluate/{demo.SLUG}/jobs/export/csv?group=rental_subsidy" in html
        assert "slug=ziyang" not in html
        started = client.post(f"/evaluate/{demo.SLUG}/jobs/export/csv{query}")
        refused = client.post(f"/evaluate/{demo.SLUG}/jobs/export/csv{query}")  # limit 1
        for answer in (started, refused):
            assert answer.status_code == 302
            target = urlsplit(answer.headers["Location"])
            assert target.path == f"/evaluate/{demo.SLUG}"
            assert parse_qs(target.query) == {"group": ["rental_subsidy"]}
