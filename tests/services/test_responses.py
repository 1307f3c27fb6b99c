"""store_response returns the stored row as a persistent object without reading it back:
the object must hold exactly what the database holds, and behave like a loaded one."""

import uuid

from sqlalchemy import inspect, select

from questionnaires import validate_answers
from survey_app.models import HouseholdGroup, Response, ResponseMode, ResponseStatus
from survey_app.services import responses
from survey_app.services.questionnaire_versions import (
    attach_builtin_questionnaires,
    questionnaire_of,
    version_for_group,
)
from survey_app.services.responses import store_response
from tests.factories import make_campaign


def _answers(questionnaire) -> dict:
    raw = {}
    for question in questionnaire.questions():
        if question.type == "multiple":
            raw[question.id] = [question.options[0].code]
        elif question.type == "integer":
            raw[question.id] = str(question.min or 1)
        elif question.type == "text":
            raw[question.id] = "补贴按时发放，希望改善物业"
        elif question.type == "rating":
            raw[question.id] = "4"
        else:
            raw[question.id] = question.options[0].code
    check = validate_answers(questionnaire, raw)
    assert check.ok, check.errors
    return check.values


def _stored(session, **fields):
    campaign = make_campaign(session)
    attach_builtin_questionnaires(campaign, session=session)
    group = HouseholdGroup.RENTAL_SUBSIDY
    version = version_for_group(campaign, group, session=session)
    response, created = store_response(
        session=session, campaign=campaign, version=version, group=group,
        mode=ResponseMode.WEB_OPEN, instance_id=str(uuid.uuid4()),
        values=_answers(questionnaire_of(version)), fingerprint="f" * 64, **fields)
    assert created
    return response


def _row_of(session, response_id):
    # Core select: the database's row, not the identity map's object.
    return session.connection().execute(
        select(Response.__table__).where(Response.__table__.c.id == response_id)).one()


def test_the_returned_response_holds_every_stored_column(session):
    response = _stored(session, locale="en")
    row = _row_of(session, response.id)._mapping
    for column in Response.__table__.columns:
        stored, held = row[column.key], getattr(response, column.key)
        if hasattr(stored, "replace") and hasattr(held, "tzinfo"):
            # SQLite returns naive datetimes: compare the instant.
            stored, held = stored.replace(tzinfo=None), held.replace(tzinfo=None)
        assert held == stored, column.key
    assert response.status == ResponseStatus.COMPLETE
    assert response.locale == "en"
    assert response.excluded is False
    assert len(response.receipt_code) == 8


def test_the_returned_response_is_persistent_clean_and_writes_its_changes(session):
    response = _stored(session, status=ResponseStatus.PARTIAL)
    state = inspect(response)
    assert state.persistent
    # Every column is held, none left to load (reading it would query the database).
    assert not state.unloaded and not state.expired_attributes
    assert response not in session.dirty
    assert not any(attr.history.has_changes() for attr in state.attrs)
    assert response.receipt_code is None and response.submitted_at is None
    response.excluded = True
    response.exclusion_reason = "测试"
    session.flush()
    row = _row_of(session, response.id)
    assert (row.excluded, row.exclusion_reason) == (True, "测试")
    assert session.get(Response, response.id) is response


def test_receipt_codes_are_the_base_25_digits_of_one_uniform_draw(monkeypatch):
    draws = []

    def randbelow(bound):
        draws.append(bound)
        return picked

    monkeypatch.setattr(responses.secrets, "randbelow", randbelow)
    alphabet = responses.RECEIPT_ALPHABET
    for picked, code in [(0, alphabet[0] * 8), (25**8 - 1, alphabet[-1] * 8),
                         (1 + 2 * 25**7, alphabet[1] + alphabet[0] * 6 + alphabet[2])]:
        assert responses.new_receipt_code() == code
    # Every code is reachable, each equally likely: one draw below 25**8 per code.
    assert draws == [25**8] * 3
