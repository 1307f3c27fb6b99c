"""Every staff page of the demo campaign reads in Chinese (issue 19): no English word outside
the allow-list and no stored code shown raw, for each staff role (tests/staff_crawl.py)."""

from __future__ import annotations

import pytest

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
                     "raw codes": sorted(set(raw_enum_values(text)))}
            if any(found.values()):
                problems[f"{role} {page.url}"] = found
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
