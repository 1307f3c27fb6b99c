"""Personal data typed into the comment box never leaves the system: every export, the
Word report, the API and the dashboard of a campaign whose comments are the corpus's hold
none of it; the original is shown only to an evaluator who gives a reason (audited); a
hand redaction reaches every output."""

from __future__ import annotations

import csv
import io

import pyreadstat
import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, CommentRedaction, Response
from survey_app.models.base import Role
from survey_app.services import api_tokens, campaigns, demo, responses
from survey_app.services.answer_copies import comment_terms
from tests.factories import login, make_user
from tests.security import corpus
from tests.services.comment_corpus import clean_comments, leaks, personal_comments

EXPORTS = ("csv", "xlsx", "sav", "summary")


def _counted(session, n: int) -> list[Response]:
    return list(session.exec(select(Response).where(
        Response.status == "complete", Response.excluded == False)  # noqa: E712
        .order_by(Response.id).limit(n)).all())


def _set_comment(session, response: Response, text: str) -> None:
    """The comment answer rewritten through the one writer of answers (and its copies)."""
    values = dict(responses.answer_values(response, session=session), comments=text)
    responses.replace_answers(response, values, session=session)


def _seed_corpus(session) -> list[Response]:
    texts = [c.text for c in personal_comments()] + list(clean_comments())
    seeded = _counted(session, len(texts))
    assert len(seeded) == len(texts)
    for response, text in zip(seeded, texts, strict=True):
        _set_comment(session, response, text)
    session.flush()
    return seeded


def _export_texts(client, tmp_path) -> dict[str, str]:
    base = f"/evaluate/{demo.SLUG}/export/"
    out = {"csv": client.get(base + "csv").data.decode("utf-8-sig")}
    for fmt in ("xlsx", "summary"):
        out[fmt] = "\n".join(corpus.xlsx_problems(client.get(base + fmt).data, fmt)[1])
    path = tmp_path / "export.sav"
    path.write_bytes(client.get(base + "sav").data)
    frame, _meta = pyreadstat.read_sav(str(path))
    out["sav"] = frame.to_csv()
    out["sav bytes"] = path.read_bytes().decode("utf-8", errors="replace")
    out["report"] = corpus.docx_text(client.get(f"/evaluate/{demo.SLUG}/report.docx").data)
    out["dashboard"] = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
    pages = [client.get(f"/evaluate/{demo.SLUG}/comments?page={n}").get_data(as_text=True)
             for n in (1, 2, 3)]
    assert "我叫[姓名]，电话[电话]" in pages[0]
    out["comment pages"] = "\n".join(pages)
    return out


@pytest.mark.slow
@pytest.mark.demo_data
def test_no_export_report_api_or_page_holds_a_residents_personal_data(app, client, session,
                                                                     tmp_path):
    _seed_corpus(session)
    login(client, make_user(session))
    texts = _export_texts(client, tmp_path)
    token = api_tokens.create_api_token(make_user(session), session=session)
    api = client.get(f"/api/v1/campaigns/{demo.SLUG}/scores",
                     headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    texts["api"] = corpus.json_text(api.data)
    for where, text in texts.items():
        assert leaks(text) == [], where
    # The comments really are in the exports: scrubbed, and the clean ones unchanged.
    rows = list(csv.DictReader(io.StringIO(texts["csv"], newline="")))
    exported = {row["comments"] for row in rows}
    assert set(clean_comments()) <= exported
    assert "我叫[姓名]，电话[电话]，补贴三个月没到账了，请尽快联系我。" in exported
    # The comment themes count the residents' words, never the placeholders.
    document = client.get(f"/api/v1/campaigns/{demo.SLUG}/scores",
                          headers={"Authorization": f"Bearer {token}"}).json
    # (电话 itself is a word residents write: "打了几次电话反映情况" in the demo.)
    assert not {"姓名", "地址", "身份证号"} & {t["term"] for t in document["comments"]["themes"]}
    assert comment_terms("[姓名][电话][地址][身份证号][号码]") == ""


def _campaign(session):
    return campaigns.get_campaign(demo.SLUG, session=session)


def _with_comment(session, text: str) -> Response:
    response = _counted(session, 1)[0]
    _set_comment(session, response, text)
    session.flush()
    return response


ORIGINAL = "楼下王阿姨家的狗天天叫，我叫李建国，电话13812345678"


@pytest.mark.demo_data
def test_the_original_is_shown_only_with_a_reason_and_audited(app, client, session):
    response = _with_comment(session, ORIGINAL)
    page_url = f"/evaluate/{demo.SLUG}/responses/{response.id}"
    reveal_url = page_url + "/reveal"
    evaluator = make_user(session)
    login(client, evaluator)
    page = client.get(page_url).get_data(as_text=True)
    assert "我叫[姓名]，电话[电话]" in page and "13812345678" not in page
    refused = client.post(reveal_url, data={"reason": ""})
    assert refused.status_code == 302
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.comment_reveal")).all()
    shown = client.post(reveal_url, data={"reason": "居民要求回电，核对号码"})
    assert shown.status_code == 200 and ORIGINAL in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.comment_reveal")).one()
    assert (event.actor_id, event.object_id, event.reason) == (
        evaluator.id, str(response.id), "居民要求回电，核对号码")
    assert "13812345678" not in str(event.details)
    # Admins and workers see the scrubbed page at most, never the original.
    for role in (Role.ADMIN, Role.WORKER):
        other = app.test_client()
        login(other, make_user(session, role))
        assert other.post(reveal_url, data={"reason": "只是看看而已"}).status_code == 403


@pytest.mark.demo_data
def test_a_hand_redaction_reaches_every_output_and_is_audited(app, client, session):
    response = _with_comment(session, ORIGINAL)
    assert response.comment == "楼下王阿姨家的狗天天叫，我叫[姓名]，电话[电话]"
    login(client, make_user(session))
    url = f"/evaluate/{demo.SLUG}/responses/{response.id}/redaction"
    missing = client.post(url, data={"fragments": "张阿姨", "reason": "邻居的称呼可识别"})
    assert missing.status_code == 400
    page = missing.get_data(as_text=True)
    assert "在原文中找不到" in page and "张阿姨</textarea>" in page  # typed text kept
    assert session.get(CommentRedaction, response.id) is None
    done = client.post(url, data={"fragments": "王阿姨\n", "reason": "邻居的称呼可识别"})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Response, response.id).comment == (
        "楼下[已隐去]家的狗天天叫，我叫[姓名]，电话[电话]")
    exported = client.get(f"/evaluate/{demo.SLUG}/export/csv").data.decode("utf-8-sig")
    assert "王阿姨" not in exported and "楼下[已隐去]家的狗" in exported
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.comment_redact")).one()
    assert event.reason == "邻居的称呼可识别" and "王阿姨" not in str(event.details)
    # An edit of the answers keeps the redaction.
    _set_comment(session, response, ORIGINAL + "，王阿姨也同意")
    assert "王阿姨" not in session.get(Response, response.id).comment
    # The whole comment withheld, then the redaction removed again.
    client.post(url, data={"withhold_all": "y", "reason": "整条都能认出是谁"})
    session.expire_all()
    assert session.get(Response, response.id).comment == "[意见已隐去]"
    client.post(url, data={"reason": "撤销：已核实可以公开"})
    session.expire_all()
    assert session.get(CommentRedaction, response.id) is None
    assert session.get(Response, response.id).comment.startswith("楼下王阿姨家的狗")
