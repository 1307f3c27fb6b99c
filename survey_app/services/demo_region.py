"""The demo's region: 湖南省 → 益阳市 → 赫山区, and two more counties of 益阳市 (资阳区,
桃江县) with their own small 2021 campaigns, so a city roll-up, league table and funnel
have something to show.

The two extra campaigns are synthetic like Heshan's (names 演示…, 170 phones, ``is_demo``
households), smaller (a few hundred roster households, sampled at ±7 % so a load stays
quick), answered on the web only, and closed. Their residents answer from the same
latent-satisfaction model as Heshan's (:mod:`demo_answers`), shifted per county (资阳区
lower, 桃江县 a little higher), with generators of their own: the Heshan campaign and its
golden figures are untouched. Loading is idempotent.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlmodel import Session, select

from survey_app.models import (
    Campaign,
    CampaignStatus,
    Community,
    Disposition,
    Household,
    HouseholdGroup,
    ResponseMode,
)
from survey_app.services import (
    campaigns,
    questionnaire_versions,
    roster,
    sampling,
    units,
)
from survey_app.services.demo_answers import Resident, household_latent, simulated_answers
from survey_app.services.personal_data import id_number_check_char
from survey_app.services.responses import store_response

#: code, name, parent code
UNITS = (
    ("430000", "湖南省", ""),
    ("430900", "益阳市", "430000"),
    ("430902", "资阳区", "430900"),
    ("430903", "赫山区", "430900"),
    ("430922", "桃江县", "430900"),
)
HESHAN_UNIT = "430903"


@dataclass(frozen=True)
class CountySpec:
    """One extra demo county: its campaign, roster and how its residents feel."""

    unit: str
    slug: str
    title: str
    district: str
    prefix: str
    projects: tuple[tuple[str, int], ...]
    rental: int
    communities: tuple[tuple[str, str, str], ...]
    latent_shift: float
    seed: int


COUNTIES = (
    CountySpec("430902", "ziyang-2021", "资阳区2021年度城镇保障性安居工程居民满意度调查",
               "资阳区", "ZY", (("资江片区棚户区改造项目", 180), ("长春片区棚户区改造项目", 120)),
               700, (("ZY-DMS", "大码头社区", "大码头街道"), ("ZY-QJP", "汽车路社区", "汽车路街道"),
                     ("ZY-XHS", "新桥河社区", "新桥河镇")), -0.45, 4309021),
    CountySpec("430922", "taojiang-2021", "桃江县2021年度城镇保障性安居工程居民满意度调查",
               "桃江县", "TJ", (("桃花江片区棚户区改造项目", 150),), 450,
               (("TJ-THJ", "桃花江社区", "桃花江镇"), ("TJ-FQS", "凤凰山社区", "桃花江镇")),
               0.15, 4309221),
)


def load_region(*, session: Session) -> list[str]:
    """Units, Heshan's campaigns (2021 and its 2020 predecessor) placed in 赫山区, and the
    extra county campaigns; slugs created."""
    rows = [units.UnitRow(i + 2, code, name, parent) for i, (code, name, parent)
            in enumerate(UNITS)]
    units.import_units(rows, session=session)
    heshan = units.unit_by_code(HESHAN_UNIT, session=session)
    created = []
    heshan_slugs = ("heshan-2021", "heshan-2020")
    for campaign in session.exec(select(Campaign).where(Campaign.slug.in_(heshan_slugs))):
        if campaign.unit_id is None:
            units.assign_campaign(campaign, heshan, session=session)
    for spec in COUNTIES:
        if campaigns.get_campaign(spec.slug, session=session) is None:
            _create_county(spec, session)
            created.append(spec.slug)
    return created


def _create_county(spec: CountySpec, session: Session) -> Campaign:
    rng = random.Random(spec.seed)  # noqa: S311 - synthetic demo data, not security
    for code, name, street in spec.communities:
        if session.exec(select(Community).where(Community.code == code)).first() is None:
            session.add(Community(code=code, name=name, street=street))
    session.flush()
    campaign = campaigns.create_campaign(spec.slug, spec.title, 2021, session=session,
                                         district=spec.district)
    campaign.opens_on, campaign.closes_on = date(2021, 11, 1), date(2021, 12, 15)
    campaign.sample_margin, campaign.expected_response_rate = 0.07, 0.85
    campaign.status = CampaignStatus.OPEN
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    roster.import_roster(campaign, _roster_rows(spec, rng), session=session,
                         pii_key=current_app.config["PII_KEY"],
                         contact_key=current_app.config["CONTACT_KEY"], is_demo=True)
    sampling.draw_sample(campaign, spec.seed, session=session)
    units.assign_campaign(campaign, units.unit_by_code(spec.unit, session=session),
                          session=session)
    _answer(campaign, spec, rng, session)
    campaign.status = CampaignStatus.CLOSED
    session.add(campaign)
    session.flush()
    return campaign


def _roster_rows(spec: CountySpec, rng: random.Random) -> list[roster.RosterRow]:
    groups = [(HouseholdGroup.RELOCATED, name, n) for name, n in spec.projects]
    groups.append((HouseholdGroup.RENTAL_SUBSIDY, "", spec.rental))
    rows, number = [], 0
    for group, project, count in groups:
        for _ in range(count):
            number += 1
            _code, community, street = spec.communities[rng.randrange(len(spec.communities))]
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
            first17 = f"{spec.unit}{birth:%Y%m%d}{number % 1000:03d}"
            rows.append(roster.RosterRow(number + 1, {
                "household_code": f"{spec.prefix}{number:05d}", "group": group.value,
                "project": project, "community": community, "street": street,
                "head_name": f"演示{spec.district}{number}",
                "id_number": first17 + id_number_check_char(first17),
                "phone": f"170{rng.randrange(0, 10**8):08d}",
                "address": f"{street}演示路{rng.randrange(1, 300)}号"}))
    return rows


def _answer(campaign: Campaign, spec: CountySpec, rng: random.Random, session: Session) -> None:
    """85 % of the sampled households answer on the web, the rest refuse or are away."""
    versions = {g: questionnaire_versions.version_for_group(campaign, g, session=session)
                for g in HouseholdGroup}
    forms = {g: questionnaire_versions.questionnaire_of(v) for g, v in versions.items()}
    start = datetime(2021, 11, 3, 1, 0, tzinfo=UTC)
    for household in session.exec(select(Household).where(
            Household.campaign_id == campaign.id, Household.sampled)
            .order_by(Household.household_group, Household.sample_rank)).all():
        if rng.random() >= 0.85:
            household.disposition = rng.choice([Disposition.REFUSED, Disposition.NOT_AT_HOME])
            session.add(household)
            continue
        group = household.household_group
        latent = household_latent(rng, group, None, None) + spec.latent_shift
        submitted = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        store_response(
            session=session, campaign=campaign, version=versions[group], group=group,
            mode=ResponseMode.WEB_TOKEN, instance_id=str(uuid.UUID(int=rng.getrandbits(128),
                                                                     version=4)),
            values=simulated_answers(forms[group], rng, Resident(group, latent)),
            household=household, started_at=submitted - timedelta(seconds=rng.randrange(120, 600)),
            submitted_at=submitted)
        household.disposition = Disposition.COMPLETED
        session.add(household)
    session.flush()
