"""One scenario shared by the security tests, and the tools they check pages with.

The scenario (built through the services and the resident's own HTTP form, committed to
the test's rolled-back transaction) is an open campaign with households in community A
and community B, a live survey token, a token already answered on the web, an open-link
response, a paper form whose two entries disagree, a paper form held because the household
also answered on the web, one user of every role (two workers: A and B) and API tokens.
Every roster row carries a synthetic ID number and mobile number, so the personal-data
scans have something to miss.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from survey_app.extensions import db
from survey_app.models import CampaignStatus, Household, PaperForm, Role
from survey_app.services import (
    api_tokens,
    jobs,
    paper_entry,
    questionnaire_versions,
    roster,
    sampling,
    unit_scope,
    units,
)
from survey_app.services import tokens as token_service
from tests.entry.conftest import typed_answers
from tests.factories import PASSWORD, make_campaign, make_community, make_user
from tests.fixtures.settings import TEST_SETTINGS
from tests.public.conftest import RELOCATED_ANSWERS
from tests.services.rosters import id_number, phone

WRONG_TOKEN = "wRongT0ken-" + "x" * 16

COMMUNITY_A = ("桃花仑社区", "桃花仑街道")
COMMUNITY_B = ("金银山社区", "金银山街道")
# household code, group, project, community; personal data is added from the row number.
ROSTER = [
    ("A001", "棚改", "城东项目", COMMUNITY_A), ("A002", "棚改", "城东项目", COMMUNITY_A),
    ("A003", "棚改", "城东项目", COMMUNITY_A), ("A004", "棚改", "城东项目", COMMUNITY_A),
    ("B001", "租赁补贴", "", COMMUNITY_B), ("B002", "租赁补贴", "", COMMUNITY_B),
]
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# ASCII letters and digits around a match mean it is part of a hash or an id, not a number.
PHONE_RE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def roster_values(index: int, code: str, group: str, project: str,
                  community: tuple[str, str]) -> dict[str, str]:
    return {"household_code": code, "group": group, "project": project,
            "community": community[0], "street": community[1], "head_name": f"王{index}明",
            "id_number": id_number(index), "phone": phone(index), "address": f"龙岭路{index}号"}


#: Province, city and county of the scenario's campaign.
UNIT_CODES = ("430000", "430900", "430903")
#: Another county of the same city (the unit-scoped roles' "other county").
OTHER_COUNTY = "430902"
#: The unit each unit-scoped role of the route matrix is granted (route_matrix.UNIT_ROLES).
UNIT_GRANTS = {"city_evaluator": (Role.EVALUATOR, UNIT_CODES[1]),
               "county_admin": (Role.ADMIN, UNIT_CODES[2]),
               "county_evaluator": (Role.EVALUATOR, UNIT_CODES[2]),
               "other_county_evaluator": (Role.EVALUATOR, OTHER_COUNTY),
               "other_county_admin": (Role.ADMIN, OTHER_COUNTY),
               "other_county_worker": (Role.WORKER, OTHER_COUNTY)}


@dataclass
class Scenario:
    slug: str
    campaign_id: int
    token: str  # live, unanswered (household A001)
    answered_token: str  # used by a web response (household A002)
    token_instance_id: str
    open_instance_id: str
    household_a: int  # A001: no paper form
    household_b: int
    conflict_form_id: int  # A003: two blind entries disagree
    held_form_id: int  # A002: paper form held, the household also answered on the web
    response_id: int  # A002's web response
    job_id: int = 0  # the evaluator's queued export
    user_ids: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    api_tokens: dict[str, str] = field(default_factory=dict)
    id_numbers: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def params(self, role: str) -> dict[str, object]:
        """Values for URL parameters (``<token>`` is the role's own token)."""
        return {
            "slug": self.slug, "group": "relocated", "fmt": "csv",
            "token": WRONG_TOKEN if role == "resident_wrong_token" else self.token,
            "answered_token": (WRONG_TOKEN if role == "resident_wrong_token"
                               else self.answered_token),
            "instance_id": self.token_instance_id, "open_instance_id": self.open_instance_id,
            "household_id": self.household_a, "form_id": self.conflict_form_id,
            "held_form_id": self.held_form_id, "response_id": self.response_id,
            "user_id": self.user_ids["worker_a2"], "filename": "app.css",
            "code": UNIT_CODES[1], "year": 2021, "job_id": self.job_id,
        }


def _post_survey(client: FlaskClient, url: str, answers: dict[str, str]) -> str:
    instance_id = str(uuid.uuid4())
    data = {f"a_{qid}": value for qid, value in answers.items()}
    data.update(instance_id=instance_id, submit="1")
    response = client.post(url, data=data)
    assert response.status_code == 302 and "/receipt/" in response.headers["Location"], \
        response.get_data(as_text=True)[:500]
    return instance_id


def _grant_units(session, users: dict, community) -> None:
    """The unit-scoped accounts; worker A2 (whose account the admin pages switch off) is
    granted the campaign's county, so its county admin manages it and another's does not."""
    for role, (kind, _code) in UNIT_GRANTS.items():
        users[role] = make_user(session, kind, community=community if kind == Role.WORKER
                                else None)
    for role, (_kind, code) in {**UNIT_GRANTS, "worker_a2": (Role.WORKER, UNIT_CODES[2])}.items():
        unit_scope.grant_unit(users[role], units.unit_by_code(code, session=session),
                              session=session)


def build_scenario(app) -> Scenario:
    with app.app_context():
        session = db.session
        community_a = make_community(session, name=COMMUNITY_A[0], street=COMMUNITY_A[1])
        community_b = make_community(session, name=COMMUNITY_B[0], street=COMMUNITY_B[1])
        campaign = make_campaign(session, status=CampaignStatus.OPEN, double_entry=True,
                                 duplicate_rule="ask_admin")
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
        rows = [roster.RosterRow(i, roster_values(i, *spec)) for i, spec in
                enumerate(ROSTER, start=2)]
        roster.import_roster(campaign, rows, session=session, pii_key=TEST_SETTINGS["PII_KEY"],
                             contact_key=TEST_SETTINGS["CONTACT_KEY"])
        sampling.draw_sample(campaign, seed=1, session=session)
        households = {h.household_code: h for h in session.exec(
            select(Household).where(Household.campaign_id == campaign.id)).scalars()}
        for household in households.values():  # every household in the sample
            household.sampled = True
            session.add(household)
        users = {
            "worker_a": make_user(session, Role.WORKER, community=community_a),
            "worker_a2": make_user(session, Role.WORKER, community=community_a),
            "worker_b": make_user(session, Role.WORKER, community=community_b),
            "evaluator": make_user(session, Role.EVALUATOR),
            "admin": make_user(session, Role.ADMIN),
        }
        live = token_service.issue_token(households["A001"], session=session)
        answered = token_service.issue_token(households["A002"], session=session)
        # The conflict: two entrants type A003's paper form differently.
        version, questionnaire = paper_entry.questionnaire_for(campaign, households["A003"],
                                                               session=session)
        first = typed_answers(questionnaire, seed=1)
        second = {**first, "overall_satisfaction": "1" if first["overall_satisfaction"] != "1"
                  else "2"}
        for worker, typed in ((users["worker_a"], first), (users["worker_a2"], second)):
            paper_entry.enter_paper_form(session=session, campaign=campaign,
                                         household=households["A003"], typed=typed,
                                         worker=worker)
        # The region: the campaign belongs to a county of a city (roll-up pages).
        units.import_units([units.UnitRow(2, UNIT_CODES[0], "测试省", ""),
                            units.UnitRow(3, UNIT_CODES[1], "测试市", UNIT_CODES[0]),
                            units.UnitRow(4, UNIT_CODES[2], "测试区", UNIT_CODES[1]),
                            units.UnitRow(5, OTHER_COUNTY, "另一区", UNIT_CODES[1])],
                           session=session)
        units.assign_campaign(campaign, units.unit_by_code(UNIT_CODES[2], session=session),
                              session=session)
        _grant_units(session, users, community_a)
        keys = {role: api_tokens.create_api_token(users[role], session=session)
                for role in ("worker_a", "evaluator", "admin", *UNIT_GRANTS)}
        # The evaluator's background export (only they see its progress and file).
        job_id = jobs.create_job("export", {"format": "csv"}, session=session,
                                 actor=users["evaluator"], campaign=campaign,
                                 action="export.csv").id
        session.commit()
        scenario_ids = {
            "campaign": campaign.id, "slug": campaign.slug,
            "A001": households["A001"].id, "B001": households["B001"].id,
            "A002": households["A002"].id, "A003": households["A003"].id,
        }
        users_ids = {role: user.id for role, user in users.items()}
        usernames = {role: user.username for role, user in users.items()}
    client = app.test_client()
    token_instance = _post_survey(client, f"/s/{answered}", RELOCATED_ANSWERS)
    open_instance = _post_survey(client, f"/c/{scenario_ids['slug']}/relocated",
                                 RELOCATED_ANSWERS)
    with app.app_context():
        session = db.session
        from survey_app.models import Campaign, Response, User

        campaign = session.get(Campaign, scenario_ids["campaign"])
        household = session.get(Household, scenario_ids["A002"])
        response = session.exec(select(Response).where(
            Response.instance_id == token_instance)).scalar_one()
        _, questionnaire = paper_entry.questionnaire_for(campaign, household, session=session)
        paper_entry.enter_paper_form(session=session, campaign=campaign, household=household,
                                     typed=typed_answers(questionnaire, seed=2),
                                     worker=session.get(User, users_ids["worker_a"]))
        forms = {f.household_id: f for f in session.exec(select(PaperForm)).scalars()}
        assert forms[scenario_ids["A002"]].status == "held"
        assert forms[scenario_ids["A003"]].status == "conflict"
        session.commit()
        return Scenario(
            slug=scenario_ids["slug"], campaign_id=scenario_ids["campaign"], token=live,
            answered_token=answered, token_instance_id=token_instance,
            open_instance_id=open_instance, household_a=scenario_ids["A001"],
            household_b=scenario_ids["B001"],
            conflict_form_id=forms[scenario_ids["A003"]].id,
            held_form_id=forms[scenario_ids["A002"]].id, response_id=response.id,
            user_ids=users_ids, usernames=usernames, api_tokens=keys, job_id=job_id,
            id_numbers=[id_number(i) for i in range(2, 2 + len(ROSTER))],
            phones=[phone(i) for i in range(2, 2 + len(ROSTER))])


@pytest.fixture
def scenario(app) -> Scenario:
    return build_scenario(app)


def login_cookie(app, username: str) -> str:
    """The session cookie of a fresh login (each request then starts from a clean client)."""
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


# --- database snapshots ---------------------------------------------------------------------

def database_snapshot(connection: Connection, *, ignore=None) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of all its rows, read through the test transaction.

    ``ignore(table_name, row_mapping)`` drops rows from the comparison (e.g. audit events
    that record read-only access).
    """
    snapshot = {}
    for table in SQLModel.metadata.sorted_tables:
        query = select(table).order_by(*table.primary_key.columns)
        digest = hashlib.sha256()
        count = 0
        for row in connection.execute(query).mappings():
            if ignore is not None and ignore(table.name, row):
                continue
            count += 1
            digest.update(repr(sorted((k, repr(v)) for k, v in row.items())).encode())
        snapshot[table.name] = (count, digest.hexdigest())
    return snapshot


def snapshot_diff(before: dict, after: dict) -> dict[str, tuple]:
    return {name: (before.get(name), after.get(name)) for name in set(before) | set(after)
            if before.get(name) != after.get(name)}


# --- HTML checks ----------------------------------------------------------------------------

class ElementCollector(HTMLParser):
    """Collects every start tag with its attributes, and the text of <script> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))


def html_elements(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = ElementCollector()
    parser.feed(page)
    parser.close()
    return parser.elements


def personal_data_in(text: str) -> list[str]:
    """ID-number and mainland mobile-number patterns found in ``text``."""
    return ID_NUMBER_RE.findall(text) + PHONE_RE.findall(text)
