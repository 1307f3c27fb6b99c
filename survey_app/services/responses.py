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
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    true,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, delete, select

from questionnaires import Questionnaire
from survey_app.models import (
    Answer,
    Campaign,
    CampaignQuestionnaire,
    CampaignStatus,
    Household,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    User,
    as_loaded,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.answer_copies import answer_copies
from survey_app.services.comment_privacy import redaction_of
from survey_app.services.questionnaire_versions import questionnaire_of

AnswerValues = Mapping[str, str | int | list[str]]
RECEIPT_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3467"  # no look-alikes (0/O, 1/I, 2/Z, 5/S, 8/B)


class ConflictingResubmission(ValueError):
    """The same form instance was submitted again with different answers."""


def payload_hash(values: AnswerValues) -> str:
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


RECEIPT_LENGTH = 8


def new_receipt_code() -> str:
    """8 letters drawn uniformly from RECEIPT_ALPHABET: the base-25 digits of one random
    number below 25**8 (one call into the system's random source instead of eight)."""
    number = secrets.randbelow(len(RECEIPT_ALPHABET) ** RECEIPT_LENGTH)
    letters = []
    for _ in range(RECEIPT_LENGTH):
        number, digit = divmod(number, len(RECEIPT_ALPHABET))
        letters.append(RECEIPT_ALPHABET[digit])
    return "".join(letters)


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
# One array parameter per column (answer_question_id, ...), see _answer_arrays.
_UNNESTED = func.unnest(*(cast(bindparam(f"answer_{name}"), ARRAY(kind))
                          for name, kind in _ANSWER_ARRAYS.items())
                        ).table_valued(*_ANSWER_ARRAYS).render_derived()


def _insert_unnested_answers(response_id, *, joined_to=None):
    """INSERT of the answers in ``_UNNESTED`` for the response ``response_id`` selects
    (from ``joined_to``, e.g. the CTE that inserted the response)."""
    rows = core_select(response_id, *_UNNESTED.c)
    if joined_to is not None:
        rows = rows.select_from(joined_to).join(_UNNESTED, true())
    return insert(Answer.__table__).from_select(["response_id", *_ANSWER_ARRAYS], rows)


def _answer_arrays(columns: tuple[list, ...]) -> dict[str, list]:
    """The parameters of ``_UNNESTED`` for :func:`answer_columns`: one list per column."""
    return {f"answer_{name}": column
            for name, column in zip(_ANSWER_ARRAYS, columns, strict=True)}


_INSERT_ANSWERS_UNNEST = _insert_unnested_answers(bindparam("response_id", type_=Integer))
# A repeat of a form instance is recognised by the insert itself (no lookup first, no
# savepoint): it inserts nothing and returns no id. PostgreSQL waits for a parallel
# uncommitted insert of the same instance and then skips; SQLite writers are serialised.
_RESPONSE = Response.__table__
_RESPONSE_COLUMNS = tuple(column.key for column in _RESPONSE.columns if column.key != "id")
# The insert can also check that the campaign still takes these answers, in the same
# statement (no query more for the web survey, whose link was resolved before the write
# began, or moments earlier by another post: survey_session.OpenLinks). It checks what
# resolving the link did: the campaign open (as survey_session.campaign_is_open: status
# open, :open_on within the dates), and the questionnaire the answers were validated
# against (the version and its content) still the one of the group. The content hash as
# well as the id: a remembered id outlives a database restored from a backup or a deleted
# last row whose id SQLite hands out again.
_TAKES_ANSWERS = and_(
    exists().where(
        Campaign.id == bindparam("campaign_id"), Campaign.status == CampaignStatus.OPEN,
        or_(Campaign.opens_on.is_(None), Campaign.opens_on <= bindparam("open_on", type_=Date)),
        or_(Campaign.closes_on.is_(None),
            Campaign.closes_on >= bindparam("open_on", type_=Date))),
    exists().where(
        CampaignQuestionnaire.campaign_id == bindparam("campaign_id"),
        CampaignQuestionnaire.household_group == bindparam("household_group"),
        CampaignQuestionnaire.questionnaire_version_id == bindparam("questionnaire_version_id"),
        QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id,
        QuestionnaireVersion.content_hash == bindparam("questionnaire_hash", type_=String)))


def _response_insert(dialect_insert, *, if_open: bool):
    if if_open:
        values = core_select(*(bindparam(key, type_=_RESPONSE.c[key].type)
                               for key in _RESPONSE_COLUMNS)).where(_TAKES_ANSWERS)
        statement = dialect_insert(_RESPONSE).from_select(list(_RESPONSE_COLUMNS), values)
    else:
        statement = dialect_insert(_RESPONSE).values(
            {key: bindparam(key) for key in _RESPONSE_COLUMNS})
    return (statement.on_conflict_do_nothing(index_elements=["campaign_id", "instance_id"])
            .returning(_RESPONSE.c.id))


_INSERT_RESPONSE_SQLITE = {if_open: _response_insert(sqlite.insert, if_open=if_open)
                           for if_open in (False, True)}


def _pg_write(*, if_open: bool, with_event: bool):
    # PostgreSQL: the response, its answers and (optionally) its audit event in one
    # statement, one round trip instead of three: the answers' INSERT ... SELECT and the
    # event read the new id from the response INSERT's RETURNING in a CTE; a repeat (or a
    # closed campaign) returns no row, and then nothing else is inserted either.
    new_response = _response_insert(postgresql.insert, if_open=if_open).cte("new_response")
    statement = core_select(new_response.c.id).add_cte(
        _insert_unnested_answers(new_response.c.id, joined_to=new_response).cte("new_answers"))
    if with_event:
        statement = statement.add_cte(audit.insert_for(new_response.c.id).cte("new_event"))
    return statement


_WRITE_RESPONSE_PG = {(if_open, with_event): _pg_write(if_open=if_open, with_event=with_event)
                      for if_open in (False, True) for with_event in (False, True)}


class NotTakingAnswers(Exception):  # noqa: N818 - a refusal, not a programming error
    """The campaign stopped taking answers, or gave the group another questionnaire, before
    the response could be stored."""


def _insert_answers(connection, response_id: int, columns: tuple[list, ...]) -> None:
    """Insert the answers of response ``response_id``, given as :func:`answer_columns`."""
    # The answers are not needed as objects afterwards (nothing reads them back in the
    # request; answer_values queries them).
    if not columns[0]:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(_INSERT_ANSWERS_UNNEST,
                           {"response_id": response_id, **_answer_arrays(columns)})
    else:
        connection.exec_driver_sql(_INSERT_ANSWERS_SQLITE,
                                   [(response_id, *row) for row in zip(*columns, strict=True)])


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
    open_on: date | None = None,
    questionnaire: Questionnaire | None = None,
) -> tuple[Response, bool]:
    """Store a response with its answers; return it and whether it was newly created.

    A response of the same form instance that is already stored (or committed by a
    parallel request meanwhile) is returned with ``False`` when it holds the same answers
    for the same household, else ConflictingResubmission is raised.

    ``event``: an audit event about the new response, appended only if it was created (on
    PostgreSQL in the same statement as the response). ``open_on``: store only if the
    campaign takes answers on that (Beijing) day and ``version`` is still the group's
    questionnaire, checked by the insert itself; else NotTakingAnswers (a stored response of
    the same instance is still returned). ``questionnaire``: ``version`` parsed, which the
    caller must pass if it has it: the web survey's remembered version is a detached copy
    without its definition, and parsing it again would need it (and, on SQLite, a read
    before the transaction's first write, see db.begin_write).
    """
    if questionnaire is None:
        questionnaire = questionnaire_of(version)
    complete = status == ResponseStatus.COMPLETE
    now = utcnow()
    # The row is built as a dict and the object from it once stored (models.as_loaded).
    row = {
        "created_at": now, "updated_at": now,
        "campaign_id": campaign.id, "household_id": household.id if household else None,
        "household_group": group, "questionnaire_version_id": version.id, "mode": mode,
        "instance_id": instance_id, "payload_hash": payload_hash(values), "status": status,
        "receipt_code": new_receipt_code() if complete else None,
        "locale": locale, "started_at": started_at,
        "submitted_at": (submitted_at or now) if complete else None,
        "entered_by_id": entered_by.id if entered_by else None,
        "client_fingerprint": fingerprint, "excluded": False, "exclusion_reason": None,
        "decided_at": None,
        **answer_copies(values, questionnaire),
    }
    # Everything is prepared before the first write: on SQLite that write takes the one
    # write lock until the commit, and every other worker's write waits for it.
    columns = answer_columns(values, questionnaire)
    checked = ({"open_on": open_on, "questionnaire_hash": version.content_hash}
               if open_on is not None else None)
    session.flush()  # pending ORM changes (e.g. a household row) go in before this insert
    connection = session.connection()
    new_id = _insert_response(connection, row, columns, event=event, checked=checked)
    if new_id is None:
        return _stored_instead(campaign, row, session=session, checked=checked), False
    # The row is in the database: the object is made persistent without reading it back.
    response = as_loaded(Response, {**row, "id": new_id})
    session.add(response)
    if event is not None and connection.dialect.name != "postgresql":
        audit.record_entry(event, new_id, session=session)
    return response, True


def _insert_response(connection, row: dict, columns: tuple[list, ...], *,
                     event: audit.Entry | None, checked: dict | None) -> int | None:
    """Insert the response ``row`` and its answers (on PostgreSQL its ``event`` too, in
    one statement); return its id, or None if nothing was inserted: the form instance was
    stored before, or (``checked``: the day and questionnaire hash the insert checks) the
    campaign no longer takes these answers."""
    params = {**row, **checked} if checked is not None else dict(row)
    if connection.dialect.name != "postgresql":
        new_id = connection.execute(_INSERT_RESPONSE_SQLITE[checked is not None],
                                    params).scalar()
        if new_id is not None:
            _insert_answers(connection, new_id, columns)
        return new_id
    params.update(_answer_arrays(columns))
    if event is not None:
        params.update(event.params())
    return connection.execute(_WRITE_RESPONSE_PG[checked is not None, event is not None],
                              params).scalar()


def _stored_instead(campaign: Campaign, row: dict, *, session: Session,
                    checked: dict | None) -> Response:
    """The stored response of the form instance that ``row`` repeats, if it holds the same
    answers for the same household (else ConflictingResubmission); NotTakingAnswers if
    there is none and the insert was refused by its ``checked`` conditions."""
    instance_id = row["instance_id"]
    winner = find_by_instance(campaign, instance_id, session=session)
    if winner is None and checked is not None:
        raise NotTakingAnswers(campaign.slug)
    if (winner is None or winner.payload_hash != row["payload_hash"]
            or winner.household_id != row["household_id"]):
        raise ConflictingResubmission(instance_id)
    return winner


def replace_answers(response: Response, values: AnswerValues, *, session: Session) -> None:
    """Overwrite the answers of a (partial or edited) response."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    questionnaire = questionnaire_of(version)
    session.exec(delete(Answer).where(Answer.response_id == response.id))
    _insert_answers(session.connection(), response.id, answer_columns(values, questionnaire))
    # An edit keeps the evaluator's hand redaction of the comment.
    redaction = redaction_of(response.id, session=session)
    for column, value in answer_copies(values, questionnaire, redaction).items():
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
