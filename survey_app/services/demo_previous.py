"""The demo's previous year: Heshan District 2020, the predecessor of ``heshan-2021``.

So that the dashboard, API and report show a year-over-year comparison, the demo holds a
closed 2020 campaign of the same area with its own roster, sample and web responses
(no paper forms, visits or open-link answers: only what the comparison reads, so
``survey-app demo load`` stays fast). Residents were a little less satisfied in 2020
(:data:`LATENT_SHIFT`), except with the rental subsidy's payment, which was on time more
often then (:data:`ITEM_SHIFT`). The questionnaires are the 2021 ones, but the 2020
relocated households' question on information disclosure was worded differently
(:data:`REWORDED`), so that item is marked 口径变化 (not compared).
Synthetic like the 2021 demo (``is_demo`` households), and without contact data, as after
``survey-app contacts purge``.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlmodel import Session, select

from questionnaires import Questionnaire, load_builtin
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Community,
    Disposition,
    Household,
    HouseholdGroup,
    ResponseMode,
)
from survey_app.services import campaigns, questionnaire_versions, roster, sampling
from survey_app.services.demo_answers import Resident, household_latent, simulated_answers
from survey_app.services.responses import store_response

SLUG = "heshan-2020"
TITLE = "赫山区2020年度城镇保障性安居工程居民满意度调查"
YEAR = 2020
SEED = 2020
PROJECTS = (("龙岭片区棚户区改造项目", 230), ("桃花仑片区棚户区改造项目", 190),
            ("会龙路片区棚户区改造项目", 130))
RENTAL_SUBSIDY_HOUSEHOLDS = 2300
#: 2020's latent satisfaction relative to the 2021 model (probit scale).
LATENT_SHIFT = -0.12
#: Items rated differently in 2020 (dimension -> probit shift), by household group.
ITEM_SHIFT = {"rental_subsidy": {"payment_timeliness": 0.3}}
#: The relocated questionnaire's 2020 wording of one question (question id -> text).
REWORDED = {"information_disclosure": {
    "zh_CN": "您对补偿信息公开情况是否满意？",
    "en": "How satisfied are you with the disclosure of compensation information?"}}
RESPONSE_SHARE = 0.74


def load_previous(current: Campaign, *, session: Session) -> Campaign:
    """The 2020 campaign (created on first call) named as ``current``'s predecessor."""
    previous = campaigns.get_campaign(SLUG, session=session)
    if previous is None:
        previous = _create(session)
    if current.previous_campaign_id is None:
        current.previous_campaign_id = previous.id
        session.add(current)
        session.flush()
    return previous


def questionnaire_2020(group: str) -> Questionnaire:
    """The built-in questionnaire of ``group`` as worded in 2020 (:data:`REWORDED`)."""
    builtin = load_builtin(questionnaire_versions.BUILTIN_FOR_GROUP[HouseholdGroup(group)])
    if group != HouseholdGroup.RELOCATED:
        return builtin
    definition = builtin.to_dict()
    for section in definition["sections"]:
        for question in section["questions"]:
            if question["id"] in REWORDED:
                question["text"] = dict(REWORDED[question["id"]])
    return Questionnaire.from_dict(definition, source="demo 2020")


def _create(session: Session) -> Campaign:
    rng = random.Random(SEED)  # noqa: S311 - synthetic demo data, not security
    campaign = campaigns.create_campaign(SLUG, TITLE, YEAR, session=session, district="赫山区")
    campaign.opens_on, campaign.closes_on = date(2020, 11, 2), date(2020, 12, 15)
    for group in HouseholdGroup:
        version = questionnaire_versions.register_questionnaire(questionnaire_2020(group),
                                                                session=session)
        questionnaire_versions.attach_questionnaire(campaign, group, version, session=session)
    roster.import_roster(campaign, _roster_rows(rng), session=session,
                         pii_key=current_app.config["PII_KEY"],
                         contact_key=current_app.config["CONTACT_KEY"], is_demo=True)
    sampling.draw_sample(campaign, SEED, session=session)
    _simulate(campaign, rng, session)
    campaign.status = CampaignStatus.CLOSED
    session.add(campaign)
    session.flush()
    return campaign


def _roster_rows(rng: random.Random) -> list[roster.RosterRow]:
    from survey_app.services.demo import COMMUNITIES  # the 2021 demo's communities

    communities = [(name, street) for _code, name, street in COMMUNITIES]
    groups = [(HouseholdGroup.RELOCATED, name, count) for name, count in PROJECTS]
    groups.append((HouseholdGroup.RENTAL_SUBSIDY, "", RENTAL_SUBSIDY_HOUSEHOLDS))
    rows, number = [], 0
    for group, project, count in groups:
        prefix = "PG" if group == HouseholdGroup.RELOCATED else "ZL"
        for _ in range(count):
            number += 1
            community, street = communities[rng.randrange(len(communities))]
            # No names, phones or addresses: a closed campaign's contact data is purged
            # after fieldwork (and sealing them would slow the demo's loading). The two
            # draws that made them stay, so the 2020 figures stay as they were.
            rng.randrange(0, 10**8), rng.randrange(1, 300)
            rows.append(roster.RosterRow(number + 1, {
                "household_code": f"{prefix}20{number:05d}", "group": group.value,
                "project": project, "community": community, "street": street}))
    return rows


def _simulate(campaign: Campaign, rng: random.Random, session: Session) -> None:
    """Web answers of :data:`RESPONSE_SHARE` of the sampled households (Nov-Dec 2020)."""
    versions = {g: questionnaire_versions.version_for_group(campaign, g, session=session)
                for g in HouseholdGroup}
    forms = {g: questionnaire_versions.questionnaire_of(v) for g, v in versions.items()}
    codes = {c.id: c.code for c in session.exec(select(Community)).all()}
    projects = {p.id: p.name for p in session.exec(select(roster.Project).where(
        roster.Project.campaign_id == campaign.id)).all()}
    answer_rng = random.Random(SEED + 1)  # noqa: S311 - synthetic demo data
    start = datetime(2020, 11, 2, 1, 0, tzinfo=UTC)
    for household in session.exec(select(Household).where(
            Household.campaign_id == campaign.id, Household.sampled)
            .order_by(Household.household_group, Household.sample_rank)).all():
        if rng.random() >= RESPONSE_SHARE:
            household.disposition = rng.choice([Disposition.REFUSED, Disposition.NOT_AT_HOME])
            session.add(household)
            continue
        group = household.household_group
        latent = household_latent(answer_rng, group, codes.get(household.community_id),
                                  projects.get(household.project_id), LATENT_SHIFT)
        values = simulated_answers(forms[group], answer_rng,
                                   Resident(group, latent, item_shift=ITEM_SHIFT.get(group, {})))
        submitted = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        store_response(session=session, campaign=campaign, version=versions[group],
                       group=group, mode=ResponseMode.WEB_TOKEN,
                       instance_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                       values=values, household=household,
                       started_at=submitted - timedelta(seconds=rng.randrange(120, 600)),
                       submitted_at=submitted)
        household.disposition = Disposition.COMPLETED
        session.add(household)
    session.flush()
