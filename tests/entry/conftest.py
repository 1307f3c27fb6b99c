"""A small campaign with two communities, their workers and sampled households."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from questionnaires import validate_answers
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Community,
    Household,
    HouseholdGroup,
    Role,
    User,
    utcnow,
)
from survey_app.services import questionnaire_versions
from survey_app.services.paper_entry import display_value, printed_code
from tests.factories import make_campaign, make_community, make_user


@dataclass
class Field:
    campaign: Campaign
    community_a: Community
    community_b: Community
    worker_a: User
    worker_a2: User
    worker_a3: User
    worker_b: User
    admin: User
    households_a: list[Household] = field(default_factory=list)
    households_b: list[Household] = field(default_factory=list)


def add_household(session, campaign, community, code, group=HouseholdGroup.RELOCATED,
                  sampled=True) -> Household:
    household = Household(campaign_id=campaign.id, household_code=code, household_group=group,
                           community_id=community.id, pseudonym=f"P-{code}", sampled=sampled,
                           address_masked="演示路**号")
    session.add(household)
    session.flush()
    return household


def build_field(session, *, double_entry=True, duplicate_rule="keep_first", count_a=30,
                count_b=3) -> Field:
    # Set up weeks before its field work (visits and interviews must not precede it).
    campaign = make_campaign(session, double_entry=double_entry, duplicate_rule=duplicate_rule,
                             status=CampaignStatus.OPEN,
                             created_at=utcnow() - timedelta(days=30))
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    a = make_community(session, name="桃花仑社区")
    b = make_community(session, name="金银山社区")
    world = Field(campaign, a, b,
                  worker_a=make_user(session, Role.WORKER, community=a),
                  worker_a2=make_user(session, Role.WORKER, community=a),
                  worker_a3=make_user(session, Role.WORKER, community=a),
                  worker_b=make_user(session, Role.WORKER, community=b),
                  admin=make_user(session, Role.ADMIN))
    world.households_a = [add_household(session, campaign, a, f"PG{n:05d}")
                          for n in range(1, count_a + 1)]
    world.households_b = [add_household(session, campaign, b, f"ZL{n:05d}",
                                        group=HouseholdGroup.RENTAL_SUBSIDY)
                          for n in range(1, count_b + 1)]
    return world


@pytest.fixture
def world(session) -> Field:
    return build_field(session)


def typed_answers(questionnaire, seed: int) -> dict[str, str]:
    """A complete, valid paper form as a worker would type it (codes as text)."""
    rng = random.Random(seed)
    raw: dict[str, str] = {}
    for q in questionnaire.questions():
        if q.type == "rating":
            raw[q.id] = rng.choice(["5", "4", "4", "3", "2", "9"])
        elif q.type == "single":
            raw[q.id] = rng.choice([o.code for o in q.options])
        elif q.type == "integer":
            raw[q.id] = str(rng.randint(1, 6))
        elif q.type == "text":
            raw[q.id] = rng.choice(["", "希望提高补偿标准。"])
    check = validate_answers(questionnaire, raw)
    assert check.ok, check.errors
    return {qid: display_value(value) for qid, value in check.values.items()}


def form_data(typed: dict[str, str], **extra) -> dict[str, str]:
    """The POST body of the entry screen for typed answers."""
    return {**{f"q_{qid}": value for qid, value in typed.items()}, **extra}


__all__ = ["Field", "add_household", "build_field", "form_data", "printed_code",
           "typed_answers"]


class UserClient:
    """A test client logged in as one user, safe to interleave with other users' clients.

    The ``session`` fixture keeps an app context pushed, so every request of the test shares
    one ``g``: Flask-Login would keep serving whoever logged in last and Flask-Babel the first
    request's language. Dropping both caches before each request makes them read this
    client's session cookie again.
    """

    def __init__(self, app, user):
        from tests.factories import login

        self.client = app.test_client()
        self.user = user
        assert login(self.client, user).status_code == 302

    def _fresh(self):
        from flask import g, has_app_context

        if has_app_context():
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)

    def get(self, *args, **kwargs):
        self._fresh()
        return self.client.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        self._fresh()
        return self.client.post(*args, **kwargs)
