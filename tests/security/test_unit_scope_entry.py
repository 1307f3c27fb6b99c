"""A unit-scoped evaluator stays in its unit on the entry blueprint too.

The entry pages open to evaluators (entry quality, forms needing attention, reconciliation)
looked the campaign up without the evaluator's unit scope: a county evaluator could read
another county's per-worker fabrication screen and reconcile its paper forms by typing the
other campaign's slug (found while reviewing the unit-scoped evaluators as an attacker).
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import PaperForm
from survey_app.services import campaigns, unit_scope, units
from tests.factories import login, make_user


@pytest.mark.demo_data
def test_a_county_evaluator_cannot_open_another_countys_entry_pages(app, client, session):
    county = make_user(session)
    unit_scope.grant_unit(county, units.unit_by_code("430903", session=session),
                          session=session)
    other = campaigns.get_campaign("ziyang-2021", session=session)
    form = session.exec(select(PaperForm).where(PaperForm.campaign_id == other.id)).first()
    login(client, county)
    assert client.get("/entry/heshan-2021/quality").status_code == 200  # its own county
    assert client.get("/entry/ziyang-2021/quality").status_code == 404
    assert client.get("/entry/ziyang-2021/forms").status_code == 404
    if form is not None:
        assert client.get(f"/entry/ziyang-2021/forms/{form.id}/reconcile").status_code == 404
    # An unscoped evaluator still sees every campaign.
    client.get("/auth/logout")
    login(client, make_user(session))
    assert client.get("/entry/ziyang-2021/quality").status_code == 200
