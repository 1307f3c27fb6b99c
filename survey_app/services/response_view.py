"""One response as an evaluator reads it before deciding about its flags (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from survey_app.models import Campaign, Household, QuestionnaireVersion, Response, as_utc
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.responses import answer_values


@dataclass(frozen=True)
class AnsweredQuestion:
    number: int
    text: str
    answer: str  # the chosen options' labels with their codes, the number or the text


@dataclass(frozen=True)
class ResponseDetail:
    response: Response
    pseudonym: str
    duration_seconds: int | None
    questions: tuple[AnsweredQuestion, ...]


def _duration(started: datetime | None, submitted: datetime | None) -> int | None:
    if started is None or submitted is None:
        return None
    return int((as_utc(submitted) - as_utc(started)).total_seconds())


def response_detail(campaign: Campaign, response_id: int, *, session: Session,
                    locale: str = "zh") -> ResponseDetail | None:
    """The response with its answers in questionnaire order, or None if it is not one of
    ``campaign``'s (or was deleted)."""
    response = session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id or response.status == "deleted":
        return None
    questionnaire = questionnaire_of(session.get(QuestionnaireVersion,
                                                 response.questionnaire_version_id))
    values = answer_values(response, session=session)
    rows = []
    for number, question in enumerate(questionnaire.questions(), start=1):
        if question.type == "rating":
            options = questionnaire.scale.options(allow_na=question.allow_na)
        else:
            options = getattr(question, "options", ())
        labels = {option.code: option.label.for_locale(locale) for option in options}
        value = values.get(question.id)
        codes = value if isinstance(value, list) else [value]
        shown = "；".join(f"{labels[code]} ({code})" if code in labels else str(code)
                         for code in codes if code not in (None, ""))
        rows.append(AnsweredQuestion(number, question.text.for_locale(locale), shown))
    household = (session.get(Household, response.household_id)
                 if response.household_id is not None else None)
    return ResponseDetail(response=response,
                          pseudonym=household.pseudonym if household else f"OPEN-{response.id}",
                          duration_seconds=_duration(response.started_at,
                                                     response.submitted_at),
                          questions=tuple(rows))
