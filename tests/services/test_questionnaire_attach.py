"""Replacing a group's questionnaire is refused once the group has responses, including a
response being stored at the same moment (two connections, committed data)."""

import threading
import uuid

from sqlmodel import Session, select

from questionnaires import validate_answers
from survey_app.db import make_engine
from survey_app.models import Campaign, HouseholdGroup, ResponseMode
from survey_app.services.questionnaire_versions import (
    VersionInUseError,
    attach_builtin_questionnaires,
    attach_questionnaire,
    questionnaire_of,
    register_questionnaire,
    version_for_group,
)
from survey_app.services.responses import store_response
from tests.factories import make_campaign
from tests.public.conftest import RELOCATED_ANSWERS, relocated_variant


def test_a_swap_waits_for_a_response_being_stored_and_is_then_refused(fresh_database_url):
    engine = make_engine(fresh_database_url, immediate=True)
    group = HouseholdGroup.RELOCATED
    with Session(engine) as setup:
        campaign = make_campaign(setup)
        attach_builtin_questionnaires(campaign, session=setup)
        stricter = register_questionnaire(relocated_variant(household_size={"max": 2}),
                                          session=setup)
        setup.commit()
        campaign_id, stricter_id = campaign.id, stricter.id
    answering = Session(engine)
    campaign = answering.get(Campaign, campaign_id)
    version = version_for_group(campaign, group, session=answering)
    version_id = version.id
    check = validate_answers(questionnaire_of(version), RELOCATED_ANSWERS)
    store_response(session=answering, campaign=campaign, version=version, group=group,
                   mode=ResponseMode.PAPER, instance_id=str(uuid.uuid4()), values=check.values)
    outcome: list[BaseException | None] = []

    def swap() -> None:
        with Session(engine) as admin:
            try:
                attach_questionnaire(admin.get(Campaign, campaign_id), group,
                                     admin.get(type(stricter), stricter_id), session=admin)
                admin.commit()
                outcome.append(None)
            except VersionInUseError as exc:
                outcome.append(exc)

    swapping = threading.Thread(target=swap)
    swapping.start()
    swapping.join(timeout=1.0)
    assert swapping.is_alive(), "the swap did not wait for the response being stored"
    answering.commit()
    answering.close()
    swapping.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], VersionInUseError)
    with Session(engine) as check_session:
        assert version_for_group(check_session.get(Campaign, campaign_id), group,
                                 session=check_session).id == version_id
        assert check_session.exec(select(Campaign.id)).all() == [campaign_id]
    engine.dispose()

