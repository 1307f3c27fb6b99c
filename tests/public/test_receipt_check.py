"""``/receipt`` (issue 21, item 3): a receipt code tells that the answers arrived and the
day, nothing else; unknown codes cost the address guesses; Chinese and English."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from survey_app.models import Response
from survey_app.services import receipts
from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data


@pytest.fixture
def sent(session, client) -> tuple[str, str]:
    """(token, receipt code) of an answer sent on 2026-12-05 23:30 UTC (6 December in
    Beijing)."""
    built = build_survey_campaign(session, slug="heshan-2026")
    reply = client.post(f"/s/{built.token()}", data=form_data(RELOCATED_ANSWERS,
                                                              str(uuid.uuid4())))
    assert reply.status_code == 302
    response = session.exec(select(Response)).one()
    response.submitted_at = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    session.add(response)
    session.flush()
    return built.token(), response.receipt_code


@pytest.fixture
def answered(sent) -> str:
    return sent[1]


def test_the_resident_receipt_page_links_to_the_check(session, client, sent):
    token, code = sent
    response = session.exec(select(Response)).one()
    page = client.get(f"/s/{token}/receipt/{response.instance_id}").get_data(as_text=True)
    assert code in page and 'href="/receipt"' in page


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {a}-{b} ", "{fullwidth}"])
def test_a_received_code_shows_the_day_and_nothing_else(client, answered, typed):
    code = answered
    shown = typed.format(code=code, lower=code.lower(), a=code[:4], b=code[4:],
                         fullwidth="".join(chr(ord(c) + 0xFEE0) for c in code))
    reply = client.post("/receipt", data={"code": shown})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert f"回执码为 {code} 的答卷已于 2026年12月6日 收到" in page
    for secret in ("H001", "测试调查", "heshan-2026", "希望加快进度", "桃花仑"):
        assert secret not in page


def test_english(client, answered):
    client.get("/receipt?lang=en")
    page = client.post("/receipt", data={"code": answered}).get_data(as_text=True)
    assert f"The answers with receipt code {answered} were received on December 6, 2026" \
        in page


@pytest.mark.parametrize(("typed", "message"), [
    ("", "请输入回执码"),
    ("ACDE346", "回执码由 8 个字母和数字组成"),
    ("ACDE34670", "回执码由 8 个字母和数字组成"),
    ("ACDE3465", "回执码由 8 个字母和数字组成"),  # 5 is never used in receipt codes
])
def test_a_malformed_code_is_explained_and_kept(client, typed, message):
    reply = client.post("/receipt", data={"code": typed})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422 and message in page
    assert f'value="{typed}"' in page


def test_unknown_codes_cost_the_address_guesses_a_received_one_never(make_app, session,
                                                                     answered):
    client = make_app(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="2 per day").test_client()
    replies = [client.post("/receipt", data={"code": code})
               for code in ("AAAAAAAA", "CCCCCCCC", "DDDDDDDD")]
    assert [r.status_code for r in replies] == [404, 404, 429]
    assert "没有收到带有这个回执码的答卷" in replies[0].get_data(as_text=True)
    assert int(replies[-1].headers["Retry-After"]) > 0
    assert 'value="DDDDDDDD"' in replies[-1].get_data(as_text=True)
    # A code that was received is found whatever the address guessed before.
    assert client.post("/receipt", data={"code": answered}).status_code == 200


def test_a_draft_has_no_receipt(session, answered):
    response = session.exec(select(Response)).one()
    response.status = "partial"
    session.add(response)
    session.flush()
    assert receipts.received_on(answered, session=session) is None
