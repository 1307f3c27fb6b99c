"""One response as an evaluator reads it before deciding about its flags (read-only).

Free-text answers are shown scrubbed (``text_scrub.scrub`` with the hand redaction)
unless the caller passes the originals an audited reveal returned
(``comment_privacy.reveal_originals``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from survey_app.models import Campaign, Household, QuestionnaireVersion, Response, as_utc
from survey_app.services.comment_privacy import redaction_of
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.responses import answer_values
from survey_app.services.text_scrub import NO_REDACTION, Redaction, scrub


@dataclass(frozen=True)
class AnsweredQuestion:
    number: int
    text: str
    answer: str  # the chosen options' labels with their codes, the number or the text
    free_text: bool = False


@dataclass(frozen=True)
class ResponseDetail:
    response: Response
    pseudonym: str
    duration_seconds: int | None
    questions: tuple[AnsweredQuestion, ...]
    redaction: Redaction = NO_REDACTION
    revealed: bool = False  # free text shown as typed (after an audited reveal)


def _duration(started: datetime | None, submitted: datetime | None) -> int | None:
    if started is None or submitted is None:
        return None
    return int((as_utc(submitted) - as_utc(started)).total_seconds())


def _chosen(questionnaire, question, value, locale: str) -> str:
    """The chosen options' labels with their codes, or the number."""
    if question.type == "rating":
        options = questionnaire.scale.options(allow_na=question.allow_na)
    else:
        options = getattr(question, "options", ())
    labels = {option.code: option.label.for_locale(locale) for option in options}
    codes = value if isinstance(value, list) else [value]
    shown = "{}（{}）" if locale == "zh" else "{} ({})"  # full-width brackets in Chinese
    return "；".join(shown.format(labels[code], code) if code in labels else str(code)
                    for code in codes if code not in (None, ""))


def response_detail(campaign: Campaign, response_id: int, *, session: Session,
                    locale: str = "zh",
                    originals: Mapping[str, str] | None = None) -> ResponseDetail | None:
    """The response with its answers in questionnaire order, or None if it is not one of
    ``campaign``'s (or was deleted); free text scrubbed, or ``originals`` if given."""
    response = session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id or response.status == "deleted":
        return None
    questionnaire = questionnaire_of(session.get(QuestionnaireVersion,
                                                 response.questionnaire_version_id))
    values = answer_values(response, session=session)
    redaction = redaction_of(response.id, session=session)
    rows = []
    for number, question in enumerate(questionnaire.questions(), start=1):
        value = values.get(question.id)
        if question.type == "text":
            shown = (originals.get(question.id, "") if originals is not None
                     else scrub(str(value or ""), redaction))
        else:
            shown = _chosen(questionnaire, question, value, locale)
        rows.append(AnsweredQuestion(number, question.text.for_locale(locale), shown,
                                     question.type == "text"))
    household = (session.get(Household, response.household_id)
                 if response.household_id is not None else None)
    return ResponseDetail(response=response,
                          pseudonym=household.pseudonym if household else f"OPEN-{response.id}",
                          duration_seconds=_duration(response.started_at,
                                                     response.submitted_at),
                          questions=tuple(rows), redaction=redaction,
                          revealed=originals is not None)
