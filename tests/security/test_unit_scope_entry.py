"""A unit-scoped evaluator stays in its unit on the entry blueprint too.

The entry pages open to evaluators (entry quality, forms needing attention, reconciliation)
looked the campaign up without the evaluator's unit scope: a county evaluator could read
another county's per-worker fabrication screen and reconcile its paper forms by typing the
other campaign's slug (found while reviewing the unit-scoped evaluators as an attacker).
"""

from __future__ import annotations

import pytest

from survey_app.services import unit_scope, units
from tests.factories import login, make_user


@pytest.mark.demo_data
def test_a_county_evaluator_cannot_open_another_countys_entry_pages(app, client, session):
    county = make_user(session)
    unit_scope.grant_unit(county, units.unit_by_code("430903", session=session),
                          session=session)
    login(client, county)
    assert client.get("/entry/heshan-2021/quality").status_code == 200  # its own county
    assert client.get("/entry/ziyang-2021/quality").status_code == 404
    assert client.get("/entry/ziyang-2021/forms").status_code == 404
    # Reconciliation looks the campaign up the same way (``entry.routes._campaign``) first.
    # An unscoped evaluator still sees every campaign.
    client.get("/auth/logout")
    login(client, make_user(session))
    assert client.get("/entry/ziyang-2021/quality").status_code == 200
