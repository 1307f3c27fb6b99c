"""Storing responses and their answers.

``store_response`` is idempotent on the form instance id: the same instance with
the same answers returns the stored response; with different answers it raises
:class:`ConflictingResubmission` and leaves the stored one unchanged.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from questionnaires import Questionnaire
from survey_app.models import (
    Answer,
    Campaign,
    Household,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services.questionnaire_versions import questionnaire_of

AnswerValues = Mapping[str, str | int | list[str]]
RECEIPT_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3467"  # no look-alikes (0/O, 1/I, 2/Z, 5/S, 8/B)


class ConflictingResubmission(ValueError):
    """The same form instance was submitted again with different answers."""


def payload_hash(values: AnswerValues) -> str:
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def answer_rows(response_id: int, values: AnswerValues,
                questionnaire: Questionnaire) -> list[dict]:
    """Column values of the answer rows for validated values; the question type decides
    the column."""
    rows = []
    for qid, value in values.items():
        kind = questionnaire.question(qid).type
        row = {"response_id": response_id, "question_id": qid, "code": None, "number": None,
               "text": None}
        if kind == "multiple":
            row["code"] = ",".join(value)
        elif kind == "integer":
            row["number"] = int(value)
        elif kind == "text":
            row["text"] = str(value)
        else:
            row["code"] = str(value)
        rows.append(row)
    return rows


def answers_for(response: Response, values: AnswerValues,
                questionnaire: Questionnaire) -> list[Answer]:
    """Answer objects for validated values (see :func:`answer_rows`)."""
    return [Answer(**row) for row in answer_rows(response.id, values, questionnaire)]


def _insert_answers(response: Response, values: AnswerValues, questionnaire: Questionnaire, *,
                    session: Session) -> None:
    # One executemany on the session's connection (same transaction) instead of ~15 ORM
    # objects flushed one INSERT at a time: the largest single cost of a submission.
    # The answers are not needed as objects afterwards (nothing reads them back in the
    # request; answer_values queries them).
    rows = answer_rows(response.id, values, questionnaire)
    if rows:
        session.connection().execute(insert(Answer.__table__), rows)


def find_by_instance(campaign: Campaign, instance_id: str, *, session: Session) -> Response | None:
    return session.exec(select(Response).where(Response.campaign_id == campaign.id,
                                               Response.instance_id == instance_id)).first()


def store_response(
    *,
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    group: str,
    mode: str,
    instance_id: str,
    values: AnswerValues,
    household: Household | None = None,
    entered_by: User | None = None,
    status: str = ResponseStatus.COMPLETE,
    started_at: datetime | None = None,
    submitted_at: datetime | None = None,
    locale: str = "zh",
    fingerprint: str | None = None,
    known_new: bool = False,
) -> tuple[Response, bool]:
    """Store a response with its answers; return it and whether it was newly created.

    ``known_new``: the caller found no response of ``instance_id`` in this transaction
    already (skips a second identical lookup)."""
    digest = payload_hash(values)
    # known_new: the caller has just looked the instance up in this transaction and found
    # nothing; a parallel insert since then is still caught by the unique constraint below.
    existing = None if known_new else find_by_instance(campaign, instance_id, session=session)
    if existing is not None:
        if existing.payload_hash != digest:
            raise ConflictingResubmission(instance_id)
        return existing, False
    response = Response(
        campaign_id=campaign.id, household_id=household.id if household else None,
        household_group=group, questionnaire_version_id=version.id, mode=mode,
        instance_id=instance_id, payload_hash=digest, status=status,
        receipt_code=new_receipt_code() if status == ResponseStatus.COMPLETE else None,
        locale=locale, started_at=started_at,
        submitted_at=(submitted_at or utcnow()) if status == ResponseStatus.COMPLETE else None,
        entered_by_id=entered_by.id if entered_by else None, client_fingerprint=fingerprint,
    )
    try:
        # A savepoint so that losing a race on the instance id leaves the session usable.
        # The add happens inside it: a pending object left over from the failed INSERT
        # would otherwise be flushed again (and fail again) by the winner lookup below.
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError:
        if response in session:
            session.expunge(response)
        winner = find_by_instance(campaign, instance_id, session=session)
        if winner is None:
            raise
        if winner.payload_hash != digest:
            raise ConflictingResubmission(instance_id) from None
        return winner, False
    _insert_answers(response, values, questionnaire_of(version), session=session)
    return response, True


def replace_answers(response: Response, values: AnswerValues, *, session: Session) -> None:
    """Overwrite the answers of a (partial or edited) response."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    session.exec(delete(Answer).where(Answer.response_id == response.id))
    _insert_answers(response, values, questionnaire_of(version), session=session)
    response.payload_hash = payload_hash(values)
    response.updated_at = utcnow()
    session.add(response)
    session.flush()


def answer_values(response: Response, *, session: Session) -> dict[str, str | int | list[str]]:
    """The stored answers of a response as the values mapping they were saved from."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    questionnaire = questionnaire_of(version)
    values: dict[str, str | int | list[str]] = {}
    for answer in session.exec(select(Answer).where(Answer.response_id == response.id)).all():
        kind = questionnaire.question(answer.question_id).type
        if kind == "multiple":
            values[answer.question_id] = answer.code.split(",") if answer.code else []
        elif kind == "integer":
            values[answer.question_id] = answer.number
        elif kind == "text":
            values[answer.question_id] = answer.text or ""
        else:
            values[answer.question_id] = answer.code
    return values
