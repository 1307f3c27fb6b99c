"""A download that writes an audit event (an export, the Word report, the letters) starts
only when the browser says it was asked for on this site, or typed or bookmarked
(``Sec-Fetch-Site`` same-origin or none; absent: a script or an old browser). A link on
another site gets a page that asks to confirm, with a link to the same address on this site;
nothing is exported and nothing audited until it is pressed."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from survey_app.models import AuditEvent, Role
from tests.factories import login, make_user
from tests.public.conftest import build_survey_campaign


def _exports(session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("export.%"))).one()


@pytest.fixture
def slug(session):
    return build_survey_campaign(session, slug="xsite").campaign.slug


@pytest.mark.parametrize("path, role", [
    ("/evaluate/{slug}/export/csv?group=relocated", Role.EVALUATOR),
    ("/evaluate/{slug}/report.docx", Role.EVALUATOR),
    ("/admin/campaigns/{slug}/letters.zip", Role.ADMIN),
    ("/admin/campaigns/{slug}/letters", Role.ADMIN),
])
def test_a_download_asked_for_by_another_site_waits_for_a_confirmation(
        client, session, slug, path, role):
    login(client, make_user(session, role))
    url = path.format(slug=slug)
    for site in ("cross-site", "same-site"):
        refused = client.get(url, headers={"Sec-Fetch-Site": site})
        refused.close()
        assert refused.status_code == 403
        assert "Content-Disposition" not in refused.headers
        page = refused.get_data(as_text=True)
        assert "另一个网站" in page
        assert f'href="{url.replace("&", "&amp;")}"' in page
        assert _exports(session) == 0
    for site in ("same-origin", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        started = client.get(url, headers=headers)
        assert started.status_code == 200 and started.data  # the whole download read
        started.close()
    assert _exports(session) == 3
