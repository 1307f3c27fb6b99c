"""No ID number or mobile number leaves the roster: not in logs, pages, error pages, exports
or API answers; names and addresses neither (they are only in the contact vault, sealed, and
in the answer to a worker's audited reveal, which is not scanned here but leaves no log).

The roster holds synthetic numbers (the scenario's, a roster uploaded over HTTP, and a
rejected roster whose problem table must not echo the numbers). Everything the app logs
during the run is captured (root logger, werkzeug, the app's logger) and scanned too.
"""

from __future__ import annotations

import io
import logging
import zipfile

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Household
from tests.security import corpus
from tests.security.conftest import login_cookie, personal_data_in
from tests.security.test_injection_corpus import staff_urls
from tests.services.rosters import HEADER_EN, id_number, phone

UPLOADED = [(f"P{i:03d}", id_number(700 + i), phone(700 + i)) for i in range(5)]
# Invalid numbers: the problem table names row and column, never the value.
REJECTED = [("Q001", "430903195203030026", "13912345678"), ("Q002", "11010519491231002X",
                                                             "1391234567")]


def _roster(rows) -> bytes:
    lines = [",".join(HEADER_EN)]
    lines += [f"{code},rental_subsidy,,桃花仑社区,桃花仑街道,王五,{idn},{tel},龙岭路1号"
              for code, idn, tel in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.slow
def test_no_id_or_phone_number_in_logs_pages_exports_or_api(app, scenario, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", app.logger.name):
        logging.getLogger(name).setLevel(logging.DEBUG)
    known = scenario.id_numbers + scenario.phones + [n for _, a, b in UPLOADED for n in (a, b)]
    rows = range(2, 2 + len(scenario.phones))
    known += [f"王{i}明" for i in rows] + [f"龙岭路{i}号" for i in rows] + ["王五", "龙岭路1号"]
    cookies = {role: login_cookie(app, scenario.usernames[role])
               for role in ("worker_a", "evaluator", "admin")}
    admin = app.test_client()
    admin.set_cookie("session", cookies["admin"])
    texts = []
    rejected = admin.post(f"/admin/campaigns/{scenario.slug}/roster", data={
        "roster": (io.BytesIO(_roster(REJECTED)), "bad.csv")}, content_type="multipart/form-data")
    assert rejected.status_code == 400
    texts.append(rejected.get_data(as_text=True))
    uploaded = admin.post(f"/admin/campaigns/{scenario.slug}/roster", data={
        "roster": (io.BytesIO(_roster(UPLOADED)), "good.csv")}, content_type="multipart/form-data")
    assert uploaded.status_code == 302
    with app.app_context():
        stored = db.session.execute(select(Household).where(
            Household.household_code.like("P%"))).scalars().all()
        # The numbers really were in the roster: their keyed hashes are stored, masked shown.
        assert len(stored) == len(UPLOADED) and all(h.id_number_hmac for h in stored)
        community = stored[0].community_id
    entered = {"households": [stored[0].id], "communities": [community]}
    for role, cookie in cookies.items():
        client = app.test_client()
        client.set_cookie("session", cookie)
        for url in staff_urls(app, scenario, role, entered):
            response = client.get(url)
            assert response.status_code < 500, url
            texts.append(_text_of(response))
        if role == "evaluator":
            for fmt in ("csv", "xlsx", "summary"):
                data = client.get(f"/evaluate/{scenario.slug}/export/{fmt}").data
                if fmt == "csv":
                    texts.append(data.decode("utf-8-sig"))
                else:
                    texts.append("\n".join(corpus.xlsx_problems(data, fmt)[1]))
            report = client.get(f"/evaluate/{scenario.slug}/report.docx").data
            texts.append(corpus.docx_text(report))
    worker = app.test_client()
    worker.set_cookie("session", login_cookie(app, scenario.usernames["worker_a"]))
    revealed = worker.post(f"/entry/{scenario.slug}/households/{scenario.household_a}/contact",
                           data={"purpose": "visit"})
    assert scenario.phones[0] in revealed.get_data(as_text=True)  # the reveal really ran
    headers = {"Authorization": f"Bearer {scenario.api_tokens['admin']}"}
    for path in ("campaigns", f"campaigns/{scenario.slug}/scores",
                 f"campaigns/{scenario.slug}/progress", "openapi.json"):
        texts.append(app.test_client().get(f"/api/v1/{path}", headers=headers)
                     .get_data(as_text=True))
    texts.append("\n".join(record.getMessage() for record in caplog.records))
    everything = "\n".join(texts)
    assert len(everything) > 100_000  # the scan really covered the pages
    leaked = [n for n in known + [n for _, a, b in REJECTED for n in (a, b)] if n in everything]
    assert leaked == []
    assert personal_data_in(everything) == []
    # Masked forms are what staff see.
    assert "139****0702" in everything or "****" in everything


def _text_of(response) -> str:
    """A page's text, or the text of every file in a ZIP download (the letters)."""
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8-sig")
                             for name in archive.namelist())
    return response.get_data(as_text=True)


def test_the_scan_finds_numbers():
    assert personal_data_in("户主 430903195203030025 电话 13900000002")
    assert personal_data_in("x 11010519491231002X;")
    assert not personal_data_in("sha 8f3a430903195203030025ab")  # inside a hash: not a number
