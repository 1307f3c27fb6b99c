"""Workers cannot open a campaign that is still a draft (issue 16, item 8)."""

import pytest

from survey_app.models import CampaignStatus
from tests.factories import login


@pytest.mark.parametrize("page", ["/", "/households", "/forms", "/progress",
                                  "/households/{household}/enter"])
def test_a_worker_gets_not_found_for_every_page_of_a_draft(app, session, world, page):
    world.campaign.status = CampaignStatus.DRAFT
    session.add(world.campaign)
    session.flush()
    path = f"/entry/{world.campaign.slug}" + page.format(household=world.households_a[0].id)
    worker, admin = app.test_client(), app.test_client()
    login(worker, world.worker_a)
    login(admin, world.admin)
    assert worker.get(path).status_code == 404
    assert admin.get(path).status_code == 200
    assert world.campaign.slug not in worker.get("/entry/").get_data(as_text=True)


def test_the_same_pages_open_once_the_campaign_is_open(app, session, world):
    worker = app.test_client()
    login(worker, world.worker_a)
    assert worker.get(f"/entry/{world.campaign.slug}/households").status_code == 200
