"""A download that writes an audit event (an export, the Word report, the letters) starts
only when the browser says it was asked for on this site, or typed or bookmarked
(``Sec-Fetch-Site`` same-origin or none; a browser without that header: an ``Origin``, else a
``Referer``, of this app). A link on another site, or a request that names no origin at all,
gets a page that asks to confirm, with a link to the same address on this site; nothing is
exported and nothing audited until it is pressed."""

from __future__ import annotations

import html
import re

import itsdangerous.timed
import pytest
from sqlmodel import func, select

from survey_app import security
from survey_app.models import AuditEvent, BackgroundJob, Role
from tests.factories import PASSWORD, login, make_user
from tests.public.conftest import build_survey_campaign


def _exports(session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("export.%"))).one()


def _written(session) -> tuple[int, int]:
    """(export audit events, background jobs)."""
    return _exports(session), session.exec(
        select(func.count()).select_from(BackgroundJob)).one()


def _old_browser(client):
    """The client as a browser that sends no Sec-Fetch-Site (Safari before 16.4, X5)."""
    client.environ_base.pop("HTTP_SEC_FETCH_SITE", None)
    return client


def _continue_link(page: str, url: str) -> str:
    """The confirmation page's link: the same address with its signed confirmation."""
    link = html.unescape(re.search(r'<a class="button primary" href="([^"]*)"', page)[1])
    assert link.startswith(url + ("&" if "?" in url else "?") + "confirmed="), link
    return link


PATHS = [
    ("/evaluate/{slug}/export/csv?group=relocated", Role.EVALUATOR),
    ("/evaluate/{slug}/report.docx", Role.EVALUATOR),
    ("/admin/campaigns/{slug}/letters.zip", Role.ADMIN),
    ("/admin/campaigns/{slug}/letters", Role.ADMIN),
]


@pytest.fixture
def slug(session):
    return build_survey_campaign(session, slug="xsite").campaign.slug


@pytest.mark.parametrize("path, role", PATHS)
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
        _continue_link(page, url)
        assert _exports(session) == 0
    for site in ("same-origin", "none"):
        started = client.get(url, headers={"Sec-Fetch-Site": site})
        assert started.status_code == 200 and started.data  # the whole download read
        started.close()
    assert _exports(session) == 2


def _refused(client, session, url, headers, *, unknown: bool):
    response = client.get(url, headers=headers)
    response.close()
    assert response.status_code == 403, headers
    assert "Content-Disposition" not in response.headers
    page = response.get_data(as_text=True)
    assert ("浏览器没有说明" in page) is unknown and ("另一个网站" in page) is not unknown
    assert _written(session) == (0, 0)
    return _continue_link(page, url)


def _started(client, url, headers) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == 200 and response.data, headers
    response.close()


@pytest.mark.parametrize("path, role", PATHS)
def test_a_browser_without_sec_fetch_site_is_judged_by_origin_then_referer(
        client, session, slug, path, role):
    login(_old_browser(client), make_user(session, role))
    url = path.format(slug=slug)
    here = "http://localhost/evaluate/xsite"  # the test client's own origin
    for headers in (
            {"Origin": "http://evil.test"},
            {"Referer": "http://evil.test/page"},
            {"Referer": "http://localhost.evil.test/evaluate/xsite"},
            {"Referer": "http://evil.test/?next=http://localhost/"},
            {"Referer": "https://localhost/evaluate/xsite"},  # another scheme: another origin
            {"Referer": "http://localhost:8080/evaluate/xsite"},  # another port
            {"Referer": "https://localhost:80/evaluate/xsite"},  # the scheme, on its own
            {"Origin": "null", "Referer": here},  # Origin, when sent, decides
            {"Origin": "http://evil.test", "Referer": here},
            {"Referer": "not an address"},
            {"Referer": "http://localhost:99999/"},
    ):
        _refused(client, session, url, headers, unknown=False)
    for headers in ({"Origin": "http://localhost"}, {"Referer": here},
                    {"Referer": "http://LOCALHOST:80/x"}):
        _started(client, url, headers)
    assert _exports(session) == 3


@pytest.mark.parametrize("path, role", PATHS)
def test_a_request_naming_no_origin_waits_and_the_confirmation_link_then_passes(
        client, session, slug, path, role):
    """A typed address in an old browser, or an image on a site whose Referrer-Policy is
    no-referrer: nothing tells them apart, so both get the page; its link, followed on this
    site, sends a same-origin Referer (the app's Referrer-Policy is same-origin)."""
    login(_old_browser(client), make_user(session, role))
    url = path.format(slug=slug)
    link = _refused(client, session, url, {}, unknown=True)
    page = client.get(url)
    assert page.headers["Referrer-Policy"] == "same-origin"
    page.close()
    _started(client, link, {"Referer": f"http://localhost{url}"})
    assert _exports(session) == 1


@pytest.mark.parametrize("path, role", PATHS)
def test_the_signed_confirmation_passes_a_browser_that_sends_no_referer_at_all(
        client, session, slug, path, role):
    """A privacy setting that strips every Referer in a browser without Sec-Fetch-Site: the
    page's link carries a confirmation signed for this account and this address."""
    login(_old_browser(client), make_user(session, role))
    url = path.format(slug=slug)
    link = _refused(client, session, url, {}, unknown=True)
    _started(client, link, {})
    _started(client, link, {"Referer": f"http://localhost{url}"})
    assert _exports(session) == 2


def _tampered(link: str) -> str:
    # Not the last character: its low bits are base64 padding, which decoding ignores.
    at = len(link) - 5
    return link[:at] + ("A" if link[at] != "A" else "B") + link[at + 1:]


def test_a_forged_reused_or_stale_confirmation_gets_the_page_again(
        client, session, slug, monkeypatch):
    login(_old_browser(client), make_user(session, Role.EVALUATOR))
    url = f"/evaluate/{slug}/export/csv?group=relocated"
    link = _refused(client, session, url, {}, unknown=True)
    token = link.rsplit("confirmed=", 1)[1]
    other_url = f"/evaluate/{slug}/export/csv?group=rental_subsidy"
    for forged in (_tampered(link),
                   f"{other_url}&confirmed={token}",  # another address
                   f"/evaluate/{slug}/report.docx?group=relocated&confirmed={token}",
                   f"{url}&confirmed={token}&group=rental_subsidy",  # more filters
                   f"{url}&confirmed="):
        response = client.get(forged)
        response.close()
        assert response.status_code == 403, forged
    # A header that names another site outweighs a genuine confirmation.
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Referer": "http://evil.test/"}):
        response = client.get(link, headers=headers)
        response.close()
        assert response.status_code == 403, headers
    # Ten minutes on, the link is stale.
    later = itsdangerous.timed.time.time() + security.CONFIRM_SECONDS + 1
    with monkeypatch.context() as patched:
        patched.setattr(itsdangerous.timed, "time", type("Later", (), {
            "time": staticmethod(lambda: later)}))
        response = client.get(link)
        response.close()
        assert response.status_code == 403
    assert _written(session) == (0, 0)
    _started(client, link, {})  # the same link, in time, is the evaluator's
    assert _exports(session) == 1


def test_a_confirmation_is_the_account_s_own(client, session, slug):
    """Another evaluator's link (or this one's after a logout everywhere, which changes the
    session version the confirmation is bound to) is not this session's click."""
    first, second = make_user(session, Role.EVALUATOR), make_user(session, Role.EVALUATOR)
    url = f"/evaluate/{slug}/report.docx"
    login(_old_browser(client), first)
    link = _refused(client, session, url, {}, unknown=True)
    client.post("/auth/logout")
    login(client, second)
    response = client.get(link)
    response.close()
    assert response.status_code == 403
    first.session_version += 1
    session.flush()
    client.post("/auth/logout")
    login(client, first)
    response = client.get(link)
    response.close()
    assert response.status_code == 403
    assert _written(session) == (0, 0)


def _login_at(client, base_url: str, user) -> None:
    # The session cookie belongs to the host the proxy passes on.
    client.post("/auth/login", base_url=base_url,
                data={"username": user.username, "password": PASSWORD})


def test_behind_a_proxy_the_public_address_is_this_site(make_app, session, slug):
    """Behind a TLS proxy that passes Host 127.0.0.1:8000 and is not trusted for
    X-Forwarded-Proto, the request sees http://127.0.0.1:8000 while the browser was on
    PUBLIC_BASE_URL: a Referer there is this site, a look-alike is not."""
    app = make_app(PUBLIC_BASE_URL="https://survey.example.cn")
    client = _old_browser(app.test_client())
    base = "http://127.0.0.1:8000"
    _login_at(client, base, make_user(session, Role.EVALUATOR))
    url = f"/evaluate/{slug}/export/csv"
    for referer in ("http://survey.example.cn/x", "https://survey.example.cn:8443/x",
                    "https://evil.example.cn/x"):
        response = client.get(url, base_url=base, headers={"Referer": referer})
        response.close()
        assert response.status_code == 403, referer
    assert _written(session) == (0, 0)
    for referer in ("https://survey.example.cn/evaluate/xsite",
                    "https://survey.example.cn:443/evaluate/xsite",
                    "http://127.0.0.1:8000/evaluate/xsite"):
        response = client.get(url, base_url=base, headers={"Referer": referer})
        assert response.status_code == 200 and response.data, referer
        response.close()
    assert _exports(session) == 3


def test_a_trusted_proxy_gives_the_browser_s_scheme(make_app, session, slug):
    """With TRUSTED_PROXIES the request's own origin is https (X-Forwarded-Proto), so the
    browser's https Referer matches it even when PUBLIC_BASE_URL names another host."""
    app = make_app(TRUSTED_PROXIES=1, PUBLIC_BASE_URL="https://residents.example.cn")
    client = _old_browser(app.test_client())
    _login_at(client, "http://staff.example.cn", make_user(session, Role.EVALUATOR))
    url = f"/evaluate/{slug}/export/csv"
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    refused = client.get(url, base_url="http://staff.example.cn", headers={
        **proxied, "Referer": "http://staff.example.cn/evaluate/xsite"})
    refused.close()
    assert refused.status_code == 403
    assert _written(session) == (0, 0)
    started = client.get(url, base_url="http://staff.example.cn", headers={
        **proxied, "Referer": "https://staff.example.cn/evaluate/xsite"})
    assert started.status_code == 200 and started.data
    started.close()
    assert _exports(session) == 1
