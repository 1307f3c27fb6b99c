"""A campaign whose workers have completed paper forms, for the back-check tests."""

from __future__ import annotations

from dataclasses import dataclass

from survey_app.models import Campaign, Household, Role, User
from survey_app.services import paper_entry
from tests.entry.conftest import build_field, typed_answers
from tests.factories import make_user
from tests.fixtures.settings import TEST_SETTINGS


@dataclass
class BackcheckField:
    campaign: Campaign
    worker_a: User  # typed 20 forms (first entries)
    worker_a2: User  # typed 8 forms
    worker_b: User  # typed 3 forms (rental-subsidy households)
    evaluator: User
    households: dict[str, Household]
    typed: dict[str, dict[str, str]]  # household code -> the answers on its paper form


def enter(session, campaign, household, worker, seed: int, second: User | None = None):
    """One completed paper form; with ``second`` typed twice (double entry)."""
    _, questionnaire = paper_entry.questionnaire_for(campaign, household, session=session)
    typed = typed_answers(questionnaire, seed=seed)
    for typist in (worker, second) if second else (worker,):
        paper_entry.enter_paper_form(session=session, campaign=campaign, household=household,
                                     typed=typed, worker=typist)
    return typed


def build_backcheck_field(session, *, seal_contacts: bool = False) -> BackcheckField:
    world = build_field(session, double_entry=False, count_a=28, count_b=4)
    campaign = world.campaign
    households = {h.household_code: h for h in world.households_a + world.households_b}
    typed = {}
    for i, household in enumerate(world.households_a):
        worker = world.worker_a if i < 20 else world.worker_a2
        typed[household.household_code] = enter(session, campaign, household, worker, seed=i)
    for i, household in enumerate(world.households_b[:3]):
        typed[household.household_code] = enter(session, campaign, household, world.worker_b,
                                                seed=100 + i)
    if seal_contacts:
        from survey_app.services import contact_vault

        for household in households.values():
            contact_vault.seal_household(
                household, contact_vault.Contact(name=f"李{household.id}华",
                                                 address=f"龙岭路{household.id}号",
                                                 phone=f"1390000{household.id:04d}"),
                secret=TEST_SETTINGS["CONTACT_KEY"])
            session.add(household)
        session.flush()
    return BackcheckField(campaign, world.worker_a, world.worker_a2, world.worker_b,
                          make_user(session, Role.EVALUATOR), households, typed)
