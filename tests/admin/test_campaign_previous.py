"""The administrator names a campaign's predecessor (year over year, issue 18 item 2)."""

from sqlmodel import select

from survey_app.models import AuditEvent, Role
from survey_app.services import campaigns
from tests.factories import login, make_user


def test_admin_sets_and_clears_the_previous_campaign(session, client):
    login(client, make_user(session, Role.ADMIN))
    before = campaigns.create_campaign("area-2021", "某区2021年度调查", 2021, session=session)
    after = campaigns.create_campaign("area-2022", "某区2022年度调查", 2022, session=session)
    campaigns.create_campaign("area-2023", "某区2023年度调查", 2023, session=session)
    page = client.get("/admin/campaigns/area-2022").get_data(as_text=True)
    assert "上一期（上年）调查" in page and "area-2021" in page and "area-2023" not in page
    response = client.post("/admin/campaigns/area-2022/previous",
                           data={"previous_id": str(before.id)})
    assert response.status_code == 302 and after.previous_campaign_id == before.id
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "campaign.previous")).one()
    assert event.details == {"previous": "area-2021"}
    refused = client.post("/admin/campaigns/area-2022/previous", data={"previous_id": "999999"},
                          follow_redirects=True)
    assert "请从列出的调查中选择" in refused.get_data(as_text=True)
    assert after.previous_campaign_id == before.id
    client.post("/admin/campaigns/area-2022/previous", data={"previous_id": "0"})
    assert after.previous_campaign_id is None
