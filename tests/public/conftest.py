"""Factories for the resident survey: an open campaign with a roster, a sample and tokens.

``live_server`` runs the app in a thread on a real, committed temporary database (a fresh
SQLite file or a fresh PostgreSQL database), for browser and concurrency tests that the
rolled-back ``app`` fixture cannot serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from questionnaires import Questionnaire, load_builtin
from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import CampaignStatus, HouseholdGroup
from survey_app.services import questionnaire_versions, roster, sampling, tokens
from tests.factories import make_campaign
from tests.fixtures.databases import create_postgres_database, drop_postgres_database
from tests.fixtures.settings import TEST_SETTINGS
from tests.live import serve_in_thread

ROSTER = [
    {"household_code": "H001", "group": "棚改", "project": "城东项目", "community": "桃花仑社区"},
    {"household_code": "H002", "group": "棚改", "project": "城东项目", "community": "桃花仑社区"},
    {"household_code": "H003", "group": "租赁补贴", "community": "金盆社区"},
    {"household_code": "H004", "group": "租赁补贴", "community": "金盆社区"},
]

# A complete set of answers to the relocated questionnaire, complaint branch included.
RELOCATED_ANSWERS = {
    "is_household_head": "1", "age_band": "4", "household_size": "3", "knows_policy": "2",
    "policy_publicity": "4", "benefit_standard": "3", "process_fairness": "4",
    "payment_timeliness": "5", "housing_improvement": "4", "staff_attitude": "5",
    "information_disclosure": "9", "procedure_convenience": "4", "has_complained": "1",
    "complaint_handling": "2", "overall_satisfaction": "4", "comments": "希望加快进度",
}


@dataclass
class SurveyCampaign:
    campaign: object
    tokens: dict[str, list[str]] = field(default_factory=dict)  # group -> tokens

    def token(self, group: str = HouseholdGroup.RELOCATED, index: int = 0) -> str:
        return self.tokens[group][index]


def build_survey_campaign(session, *, slug: str | None = None,
                          status: str = CampaignStatus.OPEN) -> SurveyCampaign:
    """An open campaign with the built-in questionnaires, 4 households, all sampled, tokens."""
    campaign = make_campaign(session, slug=slug, status=status)
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    rows = [roster.RosterRow(row=i, values=values) for i, values in enumerate(ROSTER, start=2)]
    roster.import_roster(campaign, rows, session=session, pii_key=TEST_SETTINGS["PII_KEY"],
                         contact_key=TEST_SETTINGS["CONTACT_KEY"])
    sampling.draw_sample(campaign, seed=1, session=session)
    issued = tokens.issue_tokens(campaign, session=session)
    built = SurveyCampaign(campaign)
    for item in issued:
        built.tokens.setdefault(item.household.household_group, []).append(item.token)
    return built


def relocated_variant(**changes) -> Questionnaire:
    """The built-in relocated questionnaire with some questions changed, e.g.
    ``relocated_variant(household_size={"max": 2})``."""
    definition = load_builtin("relocated").to_dict()
    for section in definition["sections"]:
        for question in section["questions"]:
            question.update(changes.get(question["id"], {}))
    return Questionnaire.from_dict(definition, source="test variant")


def form_data(answers: dict, instance_id: str, **extra) -> dict:
    """Post data as the survey page sends it (answer names carry the ``a_`` prefix)."""
    data = {f"a_{qid}": value for qid, value in answers.items()}
    data.update(instance_id=instance_id, submit="提交", **extra)
    return data


@pytest.fixture
def survey_campaign(session) -> SurveyCampaign:
    return build_survey_campaign(session)


@dataclass
class LiveServer:
    url: str
    app: object
    data: SurveyCampaign
    backend: str


def _fresh_database(backend: str, tmp_path) -> tuple[str, callable]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
        upgrade(url)
        return url, lambda: None
    url = create_postgres_database("survey_live")
    upgrade(url)
    return url, lambda: drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def live_server(request, tmp_path) -> Iterator[LiveServer]:
    """The app served by werkzeug in a thread, on a committed temporary database."""
    url, drop = _fresh_database(request.param, tmp_path)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    try:
        with app.app_context():
            data = build_survey_campaign(db.session, slug="live-survey")
            db.session.commit()
        with serve_in_thread(app) as base:
            yield LiveServer(base, app, data, request.param)
    finally:
        db.dispose(app)
        drop()
