"""Stored XSS, template and formula injection: the corpus in payloads.txt goes in through the
resident's open comment, the paper-entry comment and every text column of the roster; then
every staff page, error page and export is checked.

Pages: no element or attribute a payload could have brought (see corpus.html_problems), no
template evaluated. Exports: no cell that a spreadsheet would run as a formula; API answers
are JSON. The payloads must also really be there, shown as text, or the test proves nothing.
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import select

from questionnaires import load_builtin
from survey_app.extensions import db
from survey_app.models import Campaign, Community, Household
from tests.entry.conftest import typed_answers
from tests.public.conftest import RELOCATED_ANSWERS
from tests.security import corpus, route_matrix
from tests.security.conftest import login_cookie, personal_data_in
from tests.security.test_route_matrix import app_routes, url_for_role
from tests.services.rosters import HEADER_EN, id_number, phone

PAYLOADS = corpus.load_payloads()
STAFF_ROLES = ("worker_a", "evaluator", "admin")
EXPORT_FORMATS = ("csv", "xlsx", "summary", "sav", "indicator")
# A NUL is refused at the door (400; test_fuzz_forms): the stored doors get the rest.
STORED_PAYLOADS = [p for p in PAYLOADS if "\0" not in p]


def test_the_corpus_is_large_and_varied():
    assert len(PAYLOADS) >= 100 and len(set(PAYLOADS)) == len(PAYLOADS)
    joined = "\n".join(PAYLOADS).lower()
    for kind in ("<script", "onerror=", "javascript:", "<svg", "<math", "{{7*7}}", "{%",
                 "=cmd", "+1", "-2", "@sum"):
        assert kind in joined, kind
    assert any(p.startswith("\t") for p in PAYLOADS) and any(p.startswith("\r") for p in PAYLOADS)


def roster_csv(payloads: list[str]) -> bytes:
    """One relocated household per payload; the payload in every free-text column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER_EN)
    for i, payload in enumerate(payloads):
        writer.writerow([f"X{i:03d}", "relocated", payload, payload, payload, payload[:50],
                         id_number(500 + i), phone(500 + i), payload])
    return buffer.getvalue().encode("utf-8")


def _client(app, cookie):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def enter_corpus(app, scenario) -> dict[str, object]:
    """Put every payload in through the three doors; returns what the checks need."""
    admin = _client(app, login_cookie(app, scenario.usernames["admin"]))
    with app.app_context():  # single entry, so typed paper forms count at once
        campaign = db.session.get(Campaign, scenario.campaign_id)
        campaign.double_entry = False
        db.session.add(campaign)
        db.session.commit()
    # 1. roster import (admin upload)
    upload = admin.post(f"/admin/campaigns/{scenario.slug}/roster", data={
        "roster": (io.BytesIO(roster_csv(STORED_PAYLOADS)), "roster.csv")},
        content_type="multipart/form-data")
    assert upload.status_code == 302, upload.get_data(as_text=True)[-2000:]
    # 2. the residents' open comments, one response (one phone) per payload
    statuses = []
    for payload in PAYLOADS:
        resident = app.test_client()  # one phone answers an open link once
        data = {f"a_{qid}": value for qid, value in RELOCATED_ANSWERS.items()}
        data.update(a_comments=payload, instance_id=str(uuid.uuid4()), submit="1")
        statuses.append(resident.post(f"/c/{scenario.slug}/relocated", data=data).status_code)
    assert all(status < 500 for status in statuses)
    assert statuses.count(302) >= 100, statuses
    # 3. paper entry: comments (at most 500 characters) packed with payloads
    with app.app_context():
        households = db.session.execute(select(Household.id).where(
            Household.campaign_id == scenario.campaign_id, Household.household_code.like("X%"))
            .order_by(Household.household_code)).scalars().all()
        community_ids = db.session.execute(select(Community.id).where(
            Community.name.in_(PAYLOADS[:3]))).scalars().all()
    typed = typed_answers(load_builtin("relocated"), seed=3)
    chunks, current = [], ""
    for payload in STORED_PAYLOADS:
        if len(current) + len(payload) + 1 > 500:
            chunks.append(current)
            current = ""
        current = f"{current} {payload}" if current else payload
    chunks.append(current)
    for household_id, comment in zip(households, chunks, strict=False):
        entered = admin.post(f"/entry/{scenario.slug}/households/{household_id}/enter",
                             data={**{f"q_{k}": v for k, v in typed.items()},
                                   "q_comments": comment})
        assert entered.status_code == 302, entered.get_data(as_text=True)[-1500:]
    return {"households": households, "communities": community_ids}


def staff_urls(app, scenario, role, entered) -> list[str]:
    urls = []
    for key in app_routes(app):
        # Downloads (exports, the report and its template) are scanned as documents.
        if key.startswith("GET ") and "/export/" not in key and not key.endswith(".docx"):
            urls.append(url_for_role(key, scenario, role)[1])
    slug = scenario.slug
    household = entered["households"][0]
    urls += [f"/entry/{slug}/households?all=1", f"/entry/{slug}/households/{household}",
             f"/entry/{slug}/print/households/{household}"]
    for community in entered["communities"]:
        urls += [f"/entry/{slug}/households?all=1&community={community}",
                 f"/entry/{slug}/progress?community={community}",
                 f"/entry/{slug}/print/sample?community={community}"]
    urls += [f"/evaluate/{slug}?include_excluded=y", f"/evaluate/{slug}?mode=paper",
             # error pages, with payloads in the address
             f"/entry/{slug}/households/999999", "/nowhere/%3Cscript%3Ealert(1)%3C/script%3E",
             f"/evaluate/{slug}?community=%3Cscript%3Ealert(1)%3C/script%3E",
             "/s/%3Cimg%20src=x%20onerror=alert(1)%3E"]
    return urls


@pytest.mark.slow
@pytest.mark.parametrize("_", [None])
def test_no_payload_runs_on_any_page_or_export(app, scenario, _):
    entered = enter_corpus(app, scenario)
    problems: list[str] = []
    shown = []  # the text of every staff page, to prove the payloads are really there
    cookies = {role: login_cookie(app, scenario.usernames[role]) for role in STAFF_ROLES}
    # Responses edited by an admin show the packed paper comments in their form.
    for role in STAFF_ROLES:
        client = _client(app, cookies[role])
        for url in staff_urls(app, scenario, role, entered):
            response = client.get(url)
            assert response.status_code < 500, (url, role)
            if response.mimetype != "text/html":
                continue
            page = response.get_data(as_text=True)
            problems += corpus.html_problems(page, f"{role} {url}")
            problems += corpus.evaluated_templates(page, f"{role} {url}")
            shown.append(corpus.page_text(page))
    text = "\n".join(shown)
    # Roster values appear as text (escaped in the HTML, readable after unescaping) ...
    assert "<script>alert(1)</script>" in text and "{{7*7}}" in text
    assert '<a href="javascript:alert(1)">click</a>' in text

    evaluator = _client(app, cookies["evaluator"])
    # 4. the evaluator's note in the indicator table (exported, and printed in the report)
    assert evaluator.post(f"/evaluate/{scenario.slug}/indicator-notes", data={
        "first_level": "满意度指标", "deviation_note": "\n".join(PAYLOADS)[:2000]},
        ).status_code == 302
    export_text = []
    for fmt in EXPORT_FORMATS:
        # The residents' open-link answers identified no household: exported when included.
        response = evaluator.get(f"/evaluate/{scenario.slug}/export/{fmt}"
                                 "?include_unverified=y")
        assert response.status_code == 200, fmt
        data = response.data
        if fmt == "csv":
            found, rows = corpus.csv_problems(data, "csv export")
            problems += found
            export_text.append("\n".join("\t".join(row) for row in rows))
        elif fmt in ("xlsx", "summary", "indicator"):
            found, texts = corpus.xlsx_problems(data, f"{fmt} export")
            problems += found
            export_text.append("\n".join(texts))
        problems += corpus.evaluated_templates(data.decode("utf-8", "replace"), fmt)
    report = evaluator.get(f"/evaluate/{scenario.slug}/report.docx")
    assert report.status_code == 200
    problems += corpus.evaluated_templates(corpus.docx_text(report.data), "report.docx")
    headers = {"Authorization": f"Bearer {scenario.api_tokens['evaluator']}"}
    for path in ("campaigns", f"campaigns/{scenario.slug}/scores",
                 f"campaigns/{scenario.slug}/progress"):
        response = app.test_client().get(f"/api/v1/{path}", headers=headers)
        assert response.status_code == 200 and response.mimetype == "application/json"
        problems += corpus.evaluated_templates(corpus.json_text(response.data), path)
    exported = "\n".join(export_text)
    # ... and the resident and paper comments reached the exports, neutralised.
    assert "'=cmd|' /C calc'!A0" in exported and "{{ 12345*3 }}" in exported
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in exported
    assert not problems, "\n".join(problems[:40])
    assert not personal_data_in(text + exported)


def test_the_checks_catch_an_unescaped_payload():
    """The detectors themselves: each kind of payload, unescaped, is reported."""
    for payload in ('<img src=x onerror=alert(1)>', "<script>alert(1)</script>",
                    '<a href=" javascript:alert(1)">x</a>', "<svg onload=alert(1)>",
                    '<iframe srcdoc="x"></iframe>', "<math><mtext>x</mtext></math>"):
        assert corpus.html_problems(f"<p>{payload}</p>", "page"), payload
    assert not corpus.html_problems('<p>&lt;script&gt;</p><script src="/static/a.js"></script>'
                                    '<svg class="chart"><text>x</text></svg>', "page")
    assert corpus.evaluated_templates("total 37035", "page")
    assert corpus.csv_problems(b"a,=1+1\r\n", "csv")[0]
    assert not corpus.csv_problems(b"a,'=1+1,-3.5\r\n", "csv")[0]
    assert route_matrix.AUDITED_GETS  # imported for the export audit rule
