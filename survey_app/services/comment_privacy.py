"""Residents' free text: the original for an evaluator who says why, and hand redactions.

Every outlet of free text (exports, the comment copy behind themes, report and API, the
response page) shows it through :func:`survey_app.services.text_scrub.scrub`, with the
response's hand redaction (:class:`~survey_app.models.CommentRedaction`) if it has one.
The original stays in the answer rows. :func:`reveal_originals` returns it to an
evaluator and writes an audit event with the reason; :func:`redact_comment` stores the
fragments the scrubber missed (or withholds the comment) and rewrites the response's
comment copy, so that every later document, export and API answer applies it. Audit
events hold reasons and counts, never the fragments or the text. The fragments are stored
as typed: they are parts of the original, which the answer rows hold anyway, and no outlet
reads them except through ``scrub``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from survey_app.models import (
    Answer,
    Campaign,
    CommentRedaction,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.answer_copies import comment_terms, joined_comment
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.text_scrub import NO_REDACTION, Redaction, scrub

REASON_MIN = 4
REASON_MAX = 500
FRAGMENTS_MAX = 20
COMMENTS_PER_PAGE = 100


class CommentPrivacyError(ValueError):
    """A refused reveal or redaction; the message says why, in the reader's words."""


def redaction_of(response_id: int, *, session: Session) -> Redaction:
    row = session.get(CommentRedaction, response_id)
    return _as_redaction(row) if row is not None else NO_REDACTION


def campaign_redactions(campaign: Campaign, *, session: Session) -> dict[int, Redaction]:
    """The hand redactions of ``campaign``'s responses by response id (few: one query)."""
    rows = session.exec(select(CommentRedaction).join(
        Response, Response.id == CommentRedaction.response_id).where(
        Response.campaign_id == campaign.id)).all()
    return {row.response_id: _as_redaction(row) for row in rows}


def _as_redaction(row: CommentRedaction) -> Redaction:
    return Redaction(tuple(row.fragments or ()), bool(row.withhold_all))


def _response(campaign: Campaign, response_id: int, session: Session) -> Response:
    response = session.get(Response, response_id)
    if (response is None or response.campaign_id != campaign.id
            or response.status == ResponseStatus.DELETED):
        raise CommentPrivacyError(f"问卷{response_id}不属于本次调查。")
    return response


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise CommentPrivacyError(f"请说明原因（{REASON_MIN}至{REASON_MAX}字）。")
    return reason


def original_texts(response: Response, *, session: Session) -> dict[str, str]:
    """The response's free-text answers as typed, by question id (no audit: internal)."""
    questionnaire = questionnaire_of(session.get(QuestionnaireVersion,
                                                 response.questionnaire_version_id))
    text_ids = {q.id for q in questionnaire.questions() if q.type == "text"}
    rows = session.exec(select(Answer.question_id, Answer.text).where(
        Answer.response_id == response.id)).all()
    return {qid: text for qid, text in rows if qid in text_ids and text}


def reveal_originals(campaign: Campaign, response_id: int, *, reason: str, actor: User,
                     session: Session) -> dict[str, str]:
    """The original free text of one response, for ``actor``; audited with ``reason``."""
    response = _response(campaign, response_id, session)
    reason = _reason(reason)
    originals = original_texts(response, session=session)
    audit.record("response.comment_reveal", "response", response.id, session=session,
                 actor=actor, campaign_id=campaign.id, reason=reason,
                 details={"answers": len(originals)})
    return originals


def _clean_fragments(fragments: list[str], originals: dict[str, str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(f.strip() for f in fragments if f.strip()))
    if len(cleaned) > FRAGMENTS_MAX:
        raise CommentPrivacyError(f"一次最多隐去{FRAGMENTS_MAX}处。")
    missing = [n for n, f in enumerate(cleaned, 1)
               if not any(f in text for text in originals.values())]
    if missing:
        raise CommentPrivacyError("第" + "、".join(map(str, missing))
                                  + "处要隐去的文字在原文中找不到（须与原文一字不差）。")
    return cleaned


def redact_comment(campaign: Campaign, response_id: int, *, fragments: list[str],
                   withhold_all: bool, reason: str, actor: User,
                   session: Session) -> Redaction:
    """Store a hand redaction of one response's free text (none: remove it) and rewrite
    the response's comment copy; audited with ``reason`` and counts only."""
    response = _response(campaign, response_id, session)
    reason = _reason(reason)
    originals = original_texts(response, session=session)
    redaction = Redaction(_clean_fragments(fragments, originals), bool(withhold_all))
    row = session.get(CommentRedaction, response.id)
    if redaction == NO_REDACTION:
        if row is not None:
            session.delete(row)
    else:
        row = row or CommentRedaction(response_id=response.id)
        row.fragments, row.withhold_all = list(redaction.fragments), redaction.withhold_all
        row.updated_at = utcnow()
        session.add(row)
    questionnaire = questionnaire_of(session.get(QuestionnaireVersion,
                                                 response.questionnaire_version_id))
    response.comment = scrub(joined_comment(originals, questionnaire), redaction)
    response.comment_terms = comment_terms(response.comment)
    response.updated_at = utcnow()  # a new data version: cached documents are rebuilt
    session.add(response)
    session.flush()
    audit.record("response.comment_redact", "response", response.id, session=session,
                 actor=actor, campaign_id=campaign.id, reason=reason,
                 details={"fragments": len(redaction.fragments),
                          "withhold_all": redaction.withhold_all})
    return redaction


@dataclass(frozen=True)
class CommentRow:
    response_id: int
    comment: str  # the scrubbed copy (``Response.comment``)
    redacted: bool  # an evaluator's hand redaction applies


def comment_page(campaign: Campaign, page: int, *,
                 session: Session) -> tuple[list[CommentRow], int]:
    """One page of the campaign's non-empty comments as they leave the system (scrubbed),
    in response order, and how many there are: where an evaluator reads them for what the
    scrubbing missed."""
    written = (Response.campaign_id == campaign.id, Response.comment != "",
               Response.status == ResponseStatus.COMPLETE)
    total = session.exec(select(func.count(Response.id)).where(*written)).one()
    rows = session.exec(
        select(Response.id, Response.comment, CommentRedaction.response_id)
        .outerjoin(CommentRedaction, CommentRedaction.response_id == Response.id)
        .where(*written).order_by(Response.id)
        .offset(max(page - 1, 0) * COMMENTS_PER_PAGE).limit(COMMENTS_PER_PAGE)).all()
    return [CommentRow(rid, comment, redacted is not None)
            for rid, comment, redacted in rows], int(total)
