"""Workers see, enter and list only their own community's households (404 otherwise)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import PaperForm
from survey_app.services.paper_entry import printed_code
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from tests.entry.conftest import UserClient, form_data, typed_answers

HOUSEHOLD_PAGES = [
    "/entry/{slug}/households/{id}",
    "/entry/{slug}/households/{id}/enter",
    "/entry/{slug}/print/households/{id}",
]


@pytest.mark.parametrize("page", HOUSEHOLD_PAGES)
def test_other_communitys_household_is_404_for_read(app, world, page):
    other = world.households_a[0]
    worker_b = UserClient(app, world.worker_b)
    assert worker_b.get(page.format(slug=world.campaign.slug, id=other.id)).status_code == 404
    own = world.households_b[0]
    assert worker_b.get(page.format(slug=world.campaign.slug, id=own.id)).status_code == 200
    # Same answer as for a household that does not exist at all.
    assert worker_b.get(page.format(slug=world.campaign.slug, id=999999)).status_code == 404


def test_other_communitys_household_is_404_for_enter_and_disposition(app, session, world):
    other = world.households_a[0]
    version = version_for_group(world.campaign, other.household_group, session=session)
    typed = typed_answers(questionnaire_of(version), seed=3)
    worker_b = UserClient(app, world.worker_b)
    base = f"/entry/{world.campaign.slug}/households/{other.id}"
    assert worker_b.post(base + "/enter", data=form_data(typed)).status_code == 404
    assert worker_b.post(base, data={"disposition": "refused"}).status_code == 404
    assert session.exec(select(PaperForm)).all() == []
    assert other.disposition == "pending"


def test_printed_code_of_another_community_finds_nothing(app, world):
    worker_b = UserClient(app, world.worker_b)
    worker_b.get("/entry/?lang=en")
    page = worker_b.post(f"/entry/{world.campaign.slug}/",
                         data={"code": printed_code(world.households_a[0])})
    assert page.status_code == 200
    assert "No household with this code in your community" in page.get_data(as_text=True)
    own = worker_b.post(f"/entry/{world.campaign.slug}/",
                        data={"code": printed_code(world.households_b[0])})
    assert own.status_code == 302
    assert own.headers["Location"].endswith(f"/households/{world.households_b[0].id}/enter")


def test_lists_show_only_own_community(app, world):
    worker_b = UserClient(app, world.worker_b)
    html = worker_b.get(f"/entry/{world.campaign.slug}/households").get_data(as_text=True)
    assert all(printed_code(h) in html for h in world.households_b)
    assert not any(h.household_code in html for h in world.households_a)
    # Asking for another community as a worker changes nothing.
    html = worker_b.get(f"/entry/{world.campaign.slug}/households"
                        f"?community={world.community_a.id}").get_data(as_text=True)
    assert not any(h.household_code in html for h in world.households_a)
    progress_html = worker_b.get(f"/entry/{world.campaign.slug}/progress").get_data(as_text=True)
    assert world.community_b.name in progress_html
    assert world.community_a.name not in progress_html
    printed = worker_b.get(f"/entry/{world.campaign.slug}/print/sample"
                           f"?community={world.community_a.id}").get_data(as_text=True)
    assert not any(h.household_code in printed for h in world.households_a)


def test_other_communitys_paper_form_is_404(app, session, world):
    household = world.households_a[0]
    version = version_for_group(world.campaign, household.household_group, session=session)
    typed = typed_answers(questionnaire_of(version), seed=3)
    UserClient(app, world.worker_a).post(
        f"/entry/{world.campaign.slug}/households/{household.id}/enter", data=form_data(typed))
    form = session.exec(select(PaperForm)).one()
    worker_b = UserClient(app, world.worker_b)
    assert worker_b.get(f"/entry/{world.campaign.slug}/forms/{form.id}/reconcile"
                        ).status_code == 404
    assert household.household_code not in worker_b.get(
        f"/entry/{world.campaign.slug}/forms").get_data(as_text=True)


def test_admin_sees_every_community_and_can_filter(app, world):
    admin = UserClient(app, world.admin)
    html = admin.get(f"/entry/{world.campaign.slug}/households").get_data(as_text=True)
    assert all(h.household_code in html for h in world.households_a + world.households_b)
    only_b = admin.get(f"/entry/{world.campaign.slug}/households"
                       f"?community={world.community_b.id}").get_data(as_text=True)
    assert not any(h.household_code in only_b for h in world.households_a)
    assert admin.get(f"/entry/{world.campaign.slug}/households/{world.households_a[0].id}"
                     ).status_code == 200


def test_quality_page_is_for_admins_only(app, world):
    assert UserClient(app, world.worker_a).get(
        f"/entry/{world.campaign.slug}/quality").status_code == 403
    assert UserClient(app, world.admin).get(
        f"/entry/{world.campaign.slug}/quality").status_code == 200
