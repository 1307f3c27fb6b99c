"""The year-over-year link and the unit scope (found reviewing ``campaign create --previous``
as an attacker would use it):

* a campaign made with ``--previous`` lies in its predecessor's unit: without it the new
  year's campaign was in no unit, so the county's own scoped evaluators got 404 on it and the
  city roll-up of the new year left the county out;
* a predecessor placed in another unit is refused: the scores document of a county's
  campaign carries its predecessor's headline figures, which the county's scoped evaluators
  (and API tokens) would then read for a county outside their scope.
"""

from __future__ import annotations

import pytest

from survey_app.services import campaign_years, campaigns, unit_scope, units
from survey_app.services.campaigns import CampaignError
from tests.factories import login, make_user


@pytest.mark.demo_data
def test_a_following_campaign_keeps_its_predecessors_unit(app, client, session):
    heshan = campaigns.get_campaign("heshan-2021", session=session)
    following = campaign_years.create_following("heshan-2022", "heshan-2021", session=session)
    assert following.unit_id == heshan.unit_id is not None
    county = make_user(session)
    unit_scope.grant_unit(county, units.unit_by_code("430903", session=session),
                          session=session)
    session.flush()
    login(client, county)
    assert client.get("/evaluate/heshan-2022/quality").status_code == 200


@pytest.mark.demo_data
def test_a_predecessor_in_another_unit_is_refused(session):
    heshan = campaigns.get_campaign("heshan-2021", session=session)
    ziyang_2020 = campaigns.create_campaign("ziyang-2020", "资阳区2020年度", 2020,
                                            session=session)
    units.assign_campaign(ziyang_2020, units.unit_by_code("430902", session=session),
                          session=session)
    with pytest.raises(CampaignError):
        campaign_years.set_previous(heshan, ziyang_2020, session=session)
    # A predecessor in the same unit (the demo's heshan-2020, in 赫山区) stays allowed.
    campaign_years.set_previous(
        heshan, campaigns.get_campaign("heshan-2020", session=session), session=session)
