"""Weight budget of the survey page: HTML + CSS + JS at most 30 KB before compression,
everything from this host, no web font.

``pytest -q -s tests/public/test_weight.py -k sqlite`` prints the measured bytes recorded in
docs/BENCHMARKS.md ("Survey page weight").
"""

from __future__ import annotations

import re

import pytest

BUDGET = 30 * 1024
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"')


def _page_weight(client, path: str) -> dict[str, int]:
    """Bytes of the page and of every stylesheet, script and image it loads."""
    html = client.get(path).get_data()
    sizes = {"page": len(html)}
    for url in ASSET.findall(html.decode()):
        assert url.startswith("/") and not url.startswith("//"), f"{url} is on another host"
        asset = client.get(url)
        assert asset.status_code == 200, url
        body = asset.get_data()
        if url.endswith(".css"):
            assert b"@font-face" not in body and b"@import" not in body
            assert not re.search(rb"url\(\s*['\"]?(https?:)?//", body), "remote url() in CSS"
        sizes[url] = len(body)
        asset.close()
    return sizes


@pytest.mark.parametrize("group, lang", [
    ("relocated", "zh"), ("rental_subsidy", "zh"), ("relocated", "en"), ("rental_subsidy", "en"),
])
def test_survey_page_fits_the_weight_budget(client, survey_campaign, group, lang):
    sizes = _page_weight(client, f"/s/{survey_campaign.token(group)}?lang={lang}")
    total = sum(sizes.values())
    print(f"\nsurvey page weight ({group}, {lang}): " +
          ", ".join(f"{url.rsplit('/', 1)[-1] or 'page'} {size}" for url, size in sizes.items()) +
          f"; total {total} bytes")
    assert any(url.endswith(".js") for url in sizes) and any(url.endswith(".css") for url in sizes)
    assert total <= BUDGET, sizes


def test_error_page_of_the_longer_questionnaire_fits_too(client, survey_campaign):
    # A re-render with every question flagged carries the most text.
    token = survey_campaign.token("relocated")
    response = client.post(f"/s/{token}", data={
        "instance_id": "0f5e2b9a-3c1d-4e6f-8a7b-9c0d1e2f3a4b", "submit": "1"})
    assert response.status_code == 422
    page = len(response.get_data())
    assets = sum(size for url, size in _page_weight(client, f"/s/{token}").items()
                 if url.startswith("/static/"))
    print(f"\nerror page (every question flagged): page {page} + assets {assets} bytes")
    assert page + assets <= BUDGET
