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

from sqlalchemy import Integer, String, Text, bindparam, cast, func, insert, true
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import make_transient_to_detached
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
from survey_app.services import audit
from survey_app.services.answer_copies import answer_copies
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


def answer_columns(values: AnswerValues, questionnaire: Questionnaire
                   ) -> tuple[list[str], list[str | None], list[int | None], list[str | None]]:
    """Validated values as the answer table's columns (question_id, code, number, text);
    the question type decides the column."""
    question_ids, codes, numbers, texts = [], [], [], []
    for qid, value in values.items():
        kind = questionnaire.question(qid).type
        question_ids.append(qid)
        codes.append(",".join(value) if kind == "multiple"
                     else None if kind in ("integer", "text") else str(value))
        numbers.append(int(value) if kind == "integer" else None)
        texts.append(str(value) if kind == "text" else None)
    return question_ids, codes, numbers, texts


def answer_rows(response_id: int, values: AnswerValues,
                questionnaire: Questionnaire) -> list[dict]:
    """Column values of the answer rows for validated values (see :func:`answer_columns`)."""
    return [{"response_id": response_id, "question_id": qid, "code": code, "number": number,
             "text": text}
            for qid, code, number, text in zip(*answer_columns(values, questionnaire),
                                                strict=True)]


def answers_for(response: Response, values: AnswerValues,
                questionnaire: Questionnaire) -> list[Answer]:
    """Answer objects for validated values (see :func:`answer_rows`)."""
    return [Answer(**row) for row in answer_rows(response.id, values, questionnaire)]


# Statements built once: constructing a Core statement per call (and its cache key) cost
# more than executing it. Answers go in as one statement on the session's connection (same
# transaction) instead of ~15 ORM objects flushed one INSERT each: on SQLite an executemany
# (a loop in C), on PostgreSQL one INSERT ... SELECT over unnest() of one array per column,
# whose text never changes (psycopg prepares it once) and whose 5 parameters cost less to
# send than 15 rows of 6 (a third of the CPU of a multi-row VALUES, measured).
# SQLite: the driver's executemany of a fixed text; the rows are plain strings and
# integers, so SQLAlchemy's per-row parameter processing (most of the cost) has nothing to do.
_INSERT_ANSWERS_SQLITE = ("INSERT INTO answer (response_id, question_id, code, number, text) "
                          "VALUES (?, ?, ?, ?, ?)")
_ANSWER_ARRAYS = {"question_id": String, "code": String, "number": Integer, "text": Text}
_UNNESTED = func.unnest(*(cast(bindparam(name), ARRAY(kind))
                          for name, kind in _ANSWER_ARRAYS.items())
                        ).table_valued(*_ANSWER_ARRAYS).render_derived()
_INSERT_ANSWERS_UNNEST = insert(Answer.__table__).from_select(
    ["response_id", *_ANSWER_ARRAYS],
    core_select(bindparam("response_id", type_=Integer), *_UNNESTED.c))
# A repeat of a form instance is recognised by the insert itself (no lookup first, no
# savepoint): it inserts nothing and returns no id. PostgreSQL waits for a parallel
# uncommitted insert of the same instance and then skips; SQLite writers are serialised.
_INSERT_RESPONSE_SQLITE = (sqlite.insert(Response.__table__)
                           .on_conflict_do_nothing(index_elements=["campaign_id", "instance_id"])
                           .returning(Response.__table__.c.id))
_RESPONSE_COLUMNS = tuple(column.key for column in Response.__table__.columns
                          if column.key != "id")
# PostgreSQL: the response and its answers in one statement, one round trip instead of two
# (the answers' INSERT ... SELECT reads the new id from the response INSERT's RETURNING in a
# CTE; when the instance is a repeat the CTE returns no row and no answer is inserted).
_NEW_RESPONSE = (postgresql.insert(Response.__table__)
                 .values({key: bindparam(key) for key in _RESPONSE_COLUMNS})
                 .on_conflict_do_nothing(index_elements=["campaign_id", "instance_id"])
                 .returning(Response.__table__.c.id).cte("new_response"))
_NEW_ANSWERS_UNNESTED = func.unnest(*(cast(bindparam(f"answer_{name}"), ARRAY(kind))
                                      for name, kind in _ANSWER_ARRAYS.items())
                                    ).table_valued(*_ANSWER_ARRAYS).render_derived()
_INSERT_RESPONSE_WITH_ANSWERS_PG = core_select(_NEW_RESPONSE.c.id).add_cte(
    insert(Answer.__table__).from_select(
        ["response_id", *_ANSWER_ARRAYS],
        core_select(_NEW_RESPONSE.c.id, *_NEW_ANSWERS_UNNESTED.c)
        .select_from(_NEW_RESPONSE).join(_NEW_ANSWERS_UNNESTED, true()),
    ).cte("new_answers"))
# ... and its audit event too (one round trip more saved): only when a row was inserted.
_INSERT_RESPONSE_WITH_ANSWERS_AND_EVENT_PG = _INSERT_RESPONSE_WITH_ANSWERS_PG.add_cte(
    audit.insert_for(_NEW_RESPONSE.c.id).cte("new_event"))


def _insert_answers(response: Response, values: AnswerValues, questionnaire: Questionnaire, *,
                    session: Session) -> None:
    # The answers are not needed as objects afterwards (nothing reads them back in the
    # request; answer_values queries them).
    if not values:
        return
    columns = answer_columns(values, questionnaire)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_INSERT_ANSWERS_UNNEST,
                           {"response_id": response.id, **dict(zip(_ANSWER_ARRAYS, columns,
                                                                    strict=True))})
    else:
        connection.exec_driver_sql(_INSERT_ANSWERS_SQLITE,
                                   [(response.id, *row) for row in zip(*columns, strict=True)])


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
    event: audit.Entry | None = None,
) -> tuple[Response, bool]:
    """Store a response with its answers; return it and whether it was newly created.

    A response of the same form instance that is already stored (or committed by a
    parallel request meanwhile) is returned with ``False`` when it holds the same answers
    for the same household, else ConflictingResubmission is raised.

    ``event``: an audit event about the new response, appended only if it was created (on
    PostgreSQL in the same statement as the response).
    """
    digest = payload_hash(values)
    household_id = household.id if household else None
    # Timestamps passed in rather than left to the model's default factories, which pydantic
    # inspects (inspect.signature) on every call: a tenth of a millisecond per submission.
    now = utcnow()
    questionnaire = questionnaire_of(version)
    response = Response(
        created_at=now, updated_at=now,
        campaign_id=campaign.id, household_id=household_id,
        household_group=group, questionnaire_version_id=version.id, mode=mode,
        instance_id=instance_id, payload_hash=digest, status=status,
        receipt_code=new_receipt_code() if status == ResponseStatus.COMPLETE else None,
        locale=locale, started_at=started_at,
        submitted_at=(submitted_at or now) if status == ResponseStatus.COMPLETE else None,
        entered_by_id=entered_by.id if entered_by else None, client_fingerprint=fingerprint,
        **answer_copies(values, questionnaire),
    )
    session.flush()  # pending ORM changes (e.g. a household row) go in before this insert
    connection = session.connection()
    row = {key: getattr(response, key) for key in _RESPONSE_COLUMNS}
    if connection.dialect.name == "postgresql":
        columns = answer_columns(values, questionnaire)
        params = {**row, **{f"answer_{name}": column
                            for name, column in zip(_ANSWER_ARRAYS, columns, strict=True)}}
        if event is not None:
            params.update(event.params())
        new_id = connection.execute(
            _INSERT_RESPONSE_WITH_ANSWERS_PG if event is None
            else _INSERT_RESPONSE_WITH_ANSWERS_AND_EVENT_PG, params).scalar()
        written_with_response = True
    else:
        new_id = connection.execute(_INSERT_RESPONSE_SQLITE, row).scalar()
        written_with_response = False
    if new_id is None:
        winner = find_by_instance(campaign, instance_id, session=session)
        if winner is None or winner.payload_hash != digest or winner.household_id != household_id:
            raise ConflictingResubmission(instance_id)
        return winner, False
    # The row is in the database: make the object persistent without reading it back.
    response.id = new_id
    make_transient_to_detached(response)
    session.add(response)
    if not written_with_response:
        _insert_answers(response, values, questionnaire, session=session)
        if event is not None:
            audit.record_entry(event, new_id, session=session)
    return response, True


def replace_answers(response: Response, values: AnswerValues, *, session: Session) -> None:
    """Overwrite the answers of a (partial or edited) response."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    questionnaire = questionnaire_of(version)
    session.exec(delete(Answer).where(Answer.response_id == response.id))
    _insert_answers(response, values, questionnaire, session=session)
    for column, value in answer_copies(values, questionnaire).items():
        setattr(response, column, value)
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
