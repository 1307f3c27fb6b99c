"""Administrator pages through the HTTP client: roles, PRG, rejected forms, roster problems,
sample draw, links and letters, worker accounts."""

import io
import re
import zipfile

import pytest
from sqlmodel import func, select

from survey_app import job_queue
from survey_app.models import AccessToken, Campaign, Household, Role, User
from survey_app.services import campaigns, sampling
from tests.factories import login, make_campaign, make_user
from tests.services import rosters


@pytest.fixture
def admin_client(app, session, client):
    login(client, make_user(session, Role.ADMIN))
    return client


def _roster_upload(client, slug, data, filename="roster.csv"):
    return client.post(f"/admin/campaigns/{slug}/roster",
                       data={"roster": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("role", [Role.WORKER, Role.EVALUATOR])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/admin/"), ("get", "/admin/campaigns/new"), ("get", "/admin/campaigns/c1"),
    ("post", "/admin/campaigns/c1/tokens"), ("post", "/admin/campaigns/c1/sample/draw"),
    ("get", "/admin/users"), ("get", "/admin/campaigns/c1/poster")])
def test_other_roles_get_403(session, client, role, method, path):
    make_campaign(session, slug="c1")
    login(client, make_user(session, role))
    assert getattr(client, method)(path).status_code == 403


def test_anonymous_visitors_go_to_login(client):
    response = client.get("/admin/campaigns/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_create_campaign_attaches_builtin_questionnaires(session, admin_client):
    response = admin_client.post("/admin/campaigns/new", data={
        "slug": "yiyang-2024", "title": "益阳 2024", "year": "2024", "builtin": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/campaigns/yiyang-2024")
    page = admin_client.get("/admin/campaigns/yiyang-2024").get_data(as_text=True)
    assert "棚改货币化安置户 v1" in page and "租赁补贴户 v1" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"slug": "中文", "title": "T", "year": "2024"}, "只能使用英文字母"),
    ({"slug": "ok", "title": "", "year": "2024"}, None),
    ({"slug": "ok", "title": "T", "year": "1999"}, "2000"),
])
def test_rejected_campaign_form_keeps_every_value(admin_client, data, message):
    response = admin_client.post("/admin/campaigns/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message is None or message in page
    for value in data.values():
        if value:
            assert f'value="{value}"' in page


def test_duplicate_slug_is_refused(session, admin_client):
    make_campaign(session, slug="dup")
    response = admin_client.post("/admin/campaigns/new",
                                 data={"slug": "dup", "title": "T", "year": "2024"})
    assert response.status_code == 400 and "已存在" in response.get_data(as_text=True)


def test_roster_upload_with_a_bad_row_shows_the_problem_table_and_writes_nothing(
        session, admin_client):
    campaign = make_campaign(session, slug="r1")
    table = rosters.rows(300)
    table[120][7] = "1381234"
    response = _roster_upload(admin_client, "r1", rosters.csv_text(table).encode("gbk"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<td class="num">122</td><td>联系电话</td><td>[^<]*11位手机', page)
    assert session.exec(select(func.count()).select_from(Household).where(
        Household.campaign_id == campaign.id)).one() == 0


@pytest.mark.slow
def test_roster_upload_xlsx_then_plan_draw_and_letters(app, session, admin_client, tmp_path):
    campaign = make_campaign(session, slug="r2")
    # 200 households already give a drawn (not whole) stratum and two communities' letter
    # files; each further household only adds QR encoding, the test's main cost.
    response = _roster_upload(admin_client, "r2", rosters.xlsx_bytes(rosters.rows(200)),
                              "名册.xlsx")
    assert response.status_code == 302
    page = admin_client.get("/admin/campaigns/r2").get_data(as_text=True)
    assert "n = ⌈n0/(1+(n0−1)/N)⌉, n0 = z²p(1−p)/e²" in page
    assert admin_client.post("/admin/campaigns/r2/sample/draw",
                             data={"seed": "2021"}).status_code == 302
    drawn = session.get(Campaign, campaign.id)
    assert drawn.sample_seed == 2021
    sampled = len(sampling.sampled_households(campaign, session=session))
    # A second draw without the confirmation is refused, with a message, nothing changed.
    response = admin_client.post("/admin/campaigns/r2/sample/draw", data={"seed": "5"},
                                 follow_redirects=True)
    assert "已经抽过样本" in response.get_data(as_text=True)
    assert session.get(Campaign, campaign.id).sample_seed == 2021

    # Issuing redirects to the letters page (PRG): the letters come from the links' copies.
    response = admin_client.post("/admin/campaigns/r2/tokens", data={"output": "html"})
    assert response.status_code == 302 and "/admin/campaigns/r2/letters?since=" in \
        response.headers["Location"]
    response = admin_client.get(response.headers["Location"])
    assert response.headers["Cache-Control"] == "no-store"
    letters_page = response.get_data(as_text=True)
    urls = re.findall(r'<p class="letter-url">(http://survey\.test/s/[\w-]+)</p>', letters_page)
    assert len(urls) == sampled == len(set(urls))
    assert len(re.findall(r'<svg[^>]* class="qr"', letters_page)) == sampled
    assert "尊敬的住户" in letters_page and "style=" not in letters_page
    assert session.exec(select(func.count()).select_from(AccessToken)).one() == sampled

    # Issuing again needs an explicit choice; the ZIP holds letters, poster, CSS and CSV.
    refused = admin_client.post("/admin/campaigns/r2/tokens", data={"output": "zip"},
                                follow_redirects=True)
    assert "户持有有效链接" in refused.get_data(as_text=True)
    # The archive is a background job, written with the issuing; its page shows its bar.
    app.config["JOB_FILES_DIR"] = str(tmp_path / "jobs")
    response = admin_client.post("/admin/campaigns/r2/tokens",
                                 data={"output": "zip", "confirm_reissue": "y"})
    assert response.status_code == 302 and "/admin/campaigns/r2#job-" in \
        response.headers["Location"]
    job_id = int(response.headers["Location"].rsplit("#job-", 1)[1])
    page = admin_client.get("/admin/campaigns/r2").get_data(as_text=True)
    assert f'id="job-{job_id}"' in page and "<progress" in page
    assert job_queue.run_now(job_id) == "done"
    response = admin_client.get(f"/evaluate/jobs/{job_id}/download")
    assert response.mimetype == "application/zip"
    assert "r2-letters.zip" in response.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    response.close()
    assert {"r2/poster.html", "r2/letters.css", "r2/tokens.csv"} <= set(names)
    assert sum(n.startswith("r2/letters-") and n.endswith(".html") for n in names) == 2


def test_poster_links_to_the_open_survey(session, admin_client):
    make_campaign(session, slug="p1")
    page = admin_client.get("/admin/campaigns/p1/poster").get_data(as_text=True)
    assert "http://survey.test/c/p1" in page and re.search(r'<svg[^>]* class="qr"', page)


def test_status_dates_and_settings(session, admin_client):
    campaign = make_campaign(session, slug="s1")
    assert admin_client.post("/admin/campaigns/s1/status",
                             data={"status": "open"}).status_code == 302
    assert session.get(Campaign, campaign.id).status == "open"
    response = admin_client.post("/admin/campaigns/s1/dates",
                                 data={"opens_on": "2024-11-01", "closes_on": "2024-10-01"})
    assert response.status_code == 400
    assert "截止日期早于开始日期" in response.get_data(as_text=True)
    response = admin_client.post("/admin/campaigns/s1/settings", data={
        "measure": "rate", "target": "0.9", "points": "10", "rule": "bands",
        "bands": "0.9:10, 0.8:6", "duplicate_rule": "keep_web"})
    assert response.status_code == 302
    stored = session.get(Campaign, campaign.id)
    assert stored.indicator_rule_params == {"bands": [[0.9, 10.0], [0.8, 6.0]]}
    assert stored.double_entry is False and stored.duplicate_rule == "keep_web"
    assert campaigns.indicator_rule(stored).bands == ((0.9, 10.0), (0.8, 6.0))


@pytest.mark.parametrize(("data", "message"), [
    ({"rule": "stepwise"}, "大于0的每点扣分"),
    ({"rule": "bands", "bands": "0.9-10"}, "达到值:得分"),
    ({"measure": "rate", "target": "90"}, "满意率的目标值须大于0且不超过1"),
])
def test_bad_indicator_settings_are_explained(session, admin_client, data, message):
    make_campaign(session, slug="s2")
    form = {"measure": "rate", "target": "0.9", "points": "10", "rule": "proportional",
            "duplicate_rule": "keep_first", **data}
    response = admin_client.post("/admin/campaigns/s2/settings", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_create_and_deactivate_a_worker(session, admin_client):
    from tests.factories import make_community

    community = make_community(session, code="SQ900", name="金花社区")
    response = admin_client.post("/admin/users", data={
        "username": "li.si", "password": "long enough pass", "community": "SQ900"})
    assert response.status_code == 302
    worker = session.exec(select(User).where(User.username == "li.si")).one()
    assert worker.role == Role.WORKER and worker.community_id == community.id
    assert admin_client.post(f"/admin/users/{worker.id}/active",
                             data={"active": "0"}).status_code == 302
    assert session.get(User, worker.id).active is False


def test_csrf_is_required(make_app, session):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        from survey_app.extensions import db
        admin = make_user(db.session, Role.ADMIN)
        db.session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": admin.username, "password":
                                     "correct horse battery", "csrf_token": token})
    response = client.post("/admin/campaigns/new",
                           data={"slug": "x", "title": "T", "year": "2024"})
    assert response.status_code == 400
