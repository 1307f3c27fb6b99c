"""Every staff page of the demo campaign reads in Chinese (issue 19): no English word outside
the allow-list and no stored code shown raw, for each staff role (tests/staff_crawl.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pyreadstat
import pytest
from openpyxl import load_workbook

from survey_app.services import demo
from tests.staff_crawl import (
    english_words,
    log_in,
    raw_enum_values,
    reading_text,
    staff_pages,
    without_data,
)


@pytest.mark.slow
@pytest.mark.demo_data
def test_every_staff_page_reads_in_chinese(app, session):
    pages = staff_pages(session)
    assert {p.role for p in pages} == {"admin", "evaluator", "worker_a"}
    problems = {}
    for role in ("admin", "evaluator", "worker_a"):
        client = app.test_client()
        log_in(client, role)
        for page in (p for p in pages if p.role == role):
            reply = client.get(page.url)
            assert reply.status_code == 200, (role, page.url, reply.status_code)
            text = without_data(reading_text(reply.get_data(as_text=True)), session)
            found = {"english": sorted(set(english_words(text))),
                     "raw codes": sorted(set(raw_enum_values(text))),
                     # a Chinese label takes the full-width colon (labels.with_colon)
                     "ascii colons": sorted(set(re.findall(r".{6}[\u4e00-\u9fff）]: ",
                                                           text)))}
            if any(found.values()):
                problems[f"{role} {page.url}"] = found
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


@pytest.mark.demo_data
def test_documents_label_codes_and_explain_conventions_in_chinese(app, session, tmp_path):
    client = app.test_client()
    log_in(client, "evaluator")
    base = f"/evaluate/{demo.SLUG}/export/"
    summary = load_workbook(io.BytesIO(client.get(base + "summary").data), read_only=True)
    conventions = [row for row in summary["计算口径"].iter_rows(values_only=True)][1:]
    assert conventions and all(title and text for title, text in conventions)
    text = " ".join(f"{title} {text}" for title, text in conventions)
    assert not english_words(text) and not raw_enum_values(text), text
    assert "满意率" in text and "有限总体校正" in text

    path = tmp_path / "responses.sav"
    path.write_bytes(client.get(base + "sav").data)
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert meta.variable_value_labels["household_group"] == {
        "relocated": "棚改货币化安置户", "rental_subsidy": "租赁补贴户"}
    assert meta.variable_value_labels["mode"]["paper"].startswith("纸质")

    codebook = load_workbook(io.BytesIO(client.get(base + "xlsx").data), read_only=True)
    rows = {row[0]: row for row in codebook["codebook"].iter_rows(values_only=True)}
    assert "web_token=网络问卷（专属链接）" in rows["mode"][4]


def test_dashboard_tables_of_places_are_not_headed_with_a_personal_name():
    # The admin catalogue translates "Name" as 姓名 (people); Flask-Babel merges catalogues,
    # so project and community tables carry their own headings.
    template = (Path(__file__).parents[2] / "survey_app" / "evaluate" / "templates" / "evaluate"
                / "dashboard.html").read_text(encoding="utf-8")
    assert '_("Name")' not in template
