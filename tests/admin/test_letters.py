"""Letters people trust and reprints without revoking (issue 21, items 1 and 2): what a
letter carries, the short code that opens the start page, letters re-rendered from the
links' encrypted copies, single-household reissue, and the address check before printing."""

from __future__ import annotations

import re
import uuid
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from survey_app.models import AccessToken, AuditEvent, Household, Role
from survey_app.services import link_copies, open_identity, tokens
from tests.factories import PASSWORD, login, make_user
from tests.fixtures.settings import TEST_SETTINGS
from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data

URL_RE = re.compile(r'<p class="letter-url">(http://survey\.test/s/[\w-]+)</p>')


@pytest.fixture
def admin_client(session, client):
    login(client, make_user(session, Role.ADMIN))
    return client


@pytest.fixture
def built(session):
    built = build_survey_campaign(session, slug="heshan-2026")
    campaign = built.campaign
    campaign.closes_on = date(2026, 12, 31)
    campaign.commissioner = "鹤山区财政局"
    campaign.evaluator_org = "湖南某某会计师事务所"
    campaign.hotline = "0737-1234567"
    session.add(campaign)
    session.flush()
    return built


def _letters(client, **args) -> str:
    response = client.get("/admin/campaigns/heshan-2026/letters", query_string=args)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _letter_of(page: str, code: str) -> str:
    match = re.search(rf'<article class="letter" data-household="{code}">(.*?)</article>',
                      page, re.S)
    assert match, f"no letter for {code}"
    return match.group(1)


def _household(session, code: str) -> Household:
    return session.exec(select(Household).where(Household.household_code == code)).one()


def test_a_letter_names_issuer_date_deadline_hotline_codes_and_privacy(session, admin_client,
                                                                        built):
    page = _letters(admin_client)
    letter = _letter_of(page, "H001")
    today = tokens.live_links(built.campaign, session=session).printable[0].issued_at
    check = open_identity.check_code(built.campaign.id, "H001", TEST_SETTINGS["PII_KEY"])
    for text in ("委托单位：鹤山区财政局", "评价机构：湖南某某会计师事务所",
                 "请于 2026年12月31日 前完成", "调查咨询电话：0737-1234567",
                 f'<span class="letter-short-code">H001　{check}</span>',
                 '<span class="letter-short-url">http://survey.test/c/heshan-2026</span>',
                 "http://survey.test/receipt",
                 "您的回答严格保密：只与调查名单上的住户编号关联"):
        assert text in letter, text
    assert f"{today.year}年" in letter and "匿名" not in letter
    assert len(URL_RE.findall(page)) == 4


def test_letters_leave_out_details_the_campaign_does_not_have(session, admin_client):
    build_survey_campaign(session, slug="heshan-2026")
    letter = _letter_of(_letters(admin_client), "H001")
    assert "委托单位" not in letter and "咨询电话" not in letter and "请于" not in letter


def test_the_short_code_on_the_letter_opens_the_start_page(session, admin_client, client,
                                                            built):
    letter = _letter_of(_letters(admin_client), "H002")
    code, check = re.search(r'<span class="letter-short-code">(\S+)　(\w{5})</span>',
                            letter).groups()
    # Typed as a resident would: lower case, with a space in the check code.
    response = client.post("/c/heshan-2026/identify",
                           data={"household_code": code.lower(),
                                 "check_code": f"{check[:2]} {check[2:].lower()}"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/c/heshan-2026/relocated"
    who = parse_qs(location.query)["who"][0]
    identity = open_identity.read_identity(who, "heshan-2026", secret=TEST_SETTINGS["SECRET_KEY"])
    assert identity == (_household(session, "H002").id, "code")


def test_reloading_the_letters_page_prints_the_same_live_links(session, admin_client, built):
    first = URL_RE.findall(_letters(admin_client))
    again = URL_RE.findall(_letters(admin_client))
    assert first == again and len(set(first)) == 4
    assert sorted(first) == sorted(f"http://survey.test/s/{t}" for group in built.tokens.values()
                                   for t in group)
    for url in first:
        assert tokens.household_for_token(url.rsplit("/", 1)[1], session=session) is not None
    # Each page that shows live links is an audit event.
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export.letters")).all()
    assert len(events) == 2


def test_reissuing_one_household_leaves_every_other_letter_valid(session, admin_client, built):
    before = dict(zip(re.findall(r'data-household="(\w+)"', _letters(admin_client)),
                      URL_RE.findall(_letters(admin_client)), strict=True))
    household = _household(session, "H003")
    # Without the tick nothing changes.
    unticked = admin_client.post(
        f"/admin/campaigns/heshan-2026/households/{household.id}/reissue", follow_redirects=True)
    assert "请先勾选“原告知书将失效”" in unticked.get_data(as_text=True)
    assert URL_RE.findall(_letters(admin_client, household=household.id)) == [before["H003"]]
    response = admin_client.post(
        f"/admin/campaigns/heshan-2026/households/{household.id}/reissue",
        data={"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/letters?household={household.id}")
    single = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    (new_url,) = URL_RE.findall(single)
    assert re.findall(r'data-household="(\w+)"', single) == ["H003"]
    assert new_url != before["H003"]
    old_token = before["H003"].rsplit("/", 1)[1]
    assert tokens.household_for_token(old_token, session=session) is None
    assert tokens.household_for_token(new_url.rsplit("/", 1)[1], session=session)[0].id \
        == household.id
    for code, url in before.items():
        if code != "H003":
            found = tokens.household_for_token(url.rsplit("/", 1)[1], session=session)
            assert found is not None and found[0].household_code == code
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "token.reissue")).one()
    assert event.details == {"household_code": "H003", "revoked": 1}
    after = dict(zip(re.findall(r'data-household="(\w+)"', _letters(admin_client)),
                     URL_RE.findall(_letters(admin_client)), strict=True))
    assert after == {**before, "H003": new_url}


def test_an_answered_household_is_never_reissued(session, admin_client, client, built):
    token = built.token("relocated", 0)
    answered = client.post(f"/s/{token}", data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())))
    assert answered.status_code == 302
    household, _record = tokens.household_for_token(token, session=session)
    response = admin_client.post(
        f"/admin/campaigns/heshan-2026/households/{household.id}/reissue",
        data={"confirm": "y"}, follow_redirects=True)
    assert "has already answered" in response.get_data(as_text=True)
    live = session.exec(select(AccessToken).where(AccessToken.household_id == household.id,
                                                  AccessToken.revoked_at.is_(None))).all()
    assert len(live) == 1
    links = admin_client.get("/admin/campaigns/heshan-2026/links").get_data(as_text=True)
    row = re.search(rf'<tr data-household="{household.household_code}">(.*?)</tr>', links,
                    re.S).group(1)
    assert "已作答" in row and "reissue" not in row


def test_links_without_a_readable_copy_are_listed_for_reissue(session, admin_client, built,
                                                              make_app):
    # A link issued before copies were kept (migration 0014) has none.
    household = _household(session, "H004")
    record = session.exec(select(AccessToken).where(AccessToken.household_id == household.id,
                                                    AccessToken.revoked_at.is_(None))).one()
    record.token_copy = None
    session.add(record)
    session.flush()
    page = _letters(admin_client)
    assert "H004" not in re.findall(r'data-household="(\w+)"', page)
    assert "有 1 个有效链接是在支持补打之前发放的" in page
    links = admin_client.get("/admin/campaigns/heshan-2026/links").get_data(as_text=True)
    assert "需重新发放后打印" in re.search(r'<tr data-household="H004">(.*?)</tr>', links,
                                         re.S).group(1)
    # Under another link key the remaining copies cannot be read either.
    other = link_copies.fernet_for("another key")
    assert link_copies.unseal(record.token_copy, box=other) is None
    copy = session.exec(select(AccessToken.token_copy).where(
        AccessToken.revoked_at.is_(None), AccessToken.token_copy.is_not(None))).first()
    assert link_copies.unseal(copy, box=other) is None
    assert link_copies.unseal(copy) is not None


def test_issuing_redirects_to_only_the_new_letters(session, admin_client, built):
    household = _household(session, "H001")
    for record in session.exec(select(AccessToken).where(
            AccessToken.household_id == household.id)).all():
        session.delete(record)
    session.flush()
    response = admin_client.post("/admin/campaigns/heshan-2026/tokens",
                                 data={"output": "html", "only_missing": "y"})
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'data-household="(\w+)"', page) == ["H001"]


def test_letter_details_are_saved_audited_and_checked(session, admin_client, built):
    response = admin_client.post("/admin/campaigns/heshan-2026/letter-details", data={
        "commissioner": " 某区住建局 ", "evaluator_org": "某评价公司", "hotline": "12345"})
    assert response.status_code == 302
    assert (built.campaign.commissioner, built.campaign.hotline) == ("某区住建局", "12345")
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "campaign.letter_details")).one().details["hotline"] == "12345"
    rejected = admin_client.post("/admin/campaigns/heshan-2026/letter-details", data={
        "commissioner": "某区住建局", "evaluator_org": "X", "hotline": "call me"})
    page = rejected.get_data(as_text=True)
    assert rejected.status_code == 400 and 'value="call me"' in page and "只能填写数字" in page


@pytest.mark.parametrize(("base", "warning"), [
    ("http://127.0.0.1:5000", "指向打开它的设备本身"),
    ("http://localhost:8000", "指向打开它的设备本身"),
    ("http://192.168.1.20:8000", "是内网地址"),
    ("http://survey", "只在内网有效的名称"),
    ("https://survey.example.gov.cn", "本页面是通过 http://localhost 打开的"),
])
def test_the_letters_poster_and_campaign_page_warn_about_the_address(
        session, make_app, base, warning):
    app = make_app(PUBLIC_BASE_URL=base)
    client = app.test_client()
    with app.app_context():
        build_survey_campaign(session, slug="heshan-2026")
        login(client, make_user(session, Role.ADMIN))
    for path in ("/admin/campaigns/heshan-2026/letters", "/admin/campaigns/heshan-2026/poster",
                 "/admin/campaigns/heshan-2026"):
        page = client.get(path).get_data(as_text=True)
        assert warning in page, path
        assert 'class="address-warning screen-only"' in page
    assert f'<code id="public-base-url">{base}</code>' in page


def test_no_warning_when_the_printed_address_is_the_served_public_one(session, make_app):
    public = "https://survey.example.gov.cn"
    app = make_app(PUBLIC_BASE_URL=public)
    client = app.test_client()
    with app.app_context():
        build_survey_campaign(session, slug="heshan-2026")
        admin = make_user(session, Role.ADMIN)
    client.post("/auth/login", data={"username": admin.username, "password": PASSWORD},
                base_url=public)
    page = client.get("/admin/campaigns/heshan-2026/letters",
                      base_url=public).get_data(as_text=True)
    assert "address-warning" not in page and "https://survey.example.gov.cn/s/" in page


def test_letters_of_one_community(session, admin_client, built):
    links = admin_client.get("/admin/campaigns/heshan-2026/links").get_data(as_text=True)
    (href,) = [h for h in re.findall(r'href="([^"]+community=[^"]+)"', links)
               if ">金盆社区<" in links.split(h, 1)[1][:20]]
    page = admin_client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(re.findall(r'data-household="(\w+)"', page)) == ["H003", "H004"]
    assert admin_client.get("/admin/campaigns/heshan-2026/letters?community=NOPE"
                            ).status_code == 404
