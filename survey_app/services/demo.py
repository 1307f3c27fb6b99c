"""The Heshan District 2021 demonstration campaign.

Figures from the district's 2021 self-evaluation (shared/seed): 3 shantytown-renovation
projects with 600 households resettled with cash compensation, and 2,500 households
paid rental subsidies. Every name, phone and ID number here is synthetic: names start
with 演示 ("demo"), phones use the 170 test range, and households carry ``is_demo``.
Loading is idempotent: a second run finds the campaign and changes nothing.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
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
    PaperEntry,
    PaperForm,
    PaperFormStatus,
    Response,
    ResponseMode,
    Role,
    User,
    Visit,
)
from survey_app.services import (
    campaigns,
    demo_previous,
    questionnaire_versions,
    roster,
    sampling,
    tokens,
    users,
)
from survey_app.services.demo_answers import Resident, household_latent, simulated_answers
from survey_app.services.personal_data import id_number_check_char
from survey_app.services.responses import payload_hash, store_response

SLUG = "heshan-2021"
TITLE = "赫山区2021年度城镇保障性安居工程居民满意度调查"
SEED = 2021
PROJECTS = (  # name, households: 600 in all
    ("龙岭片区棚户区改造项目", 250),
    ("桃花仑片区棚户区改造项目", 200),
    ("会龙路片区棚户区改造项目", 150),
)
RENTAL_SUBSIDY_HOUSEHOLDS = 2500
COMMUNITIES = (  # code, name, street
    ("HS-THL", "桃花仑社区", "桃花仑街道"),
    ("HS-JYS", "金银山社区", "金银山街道"),
    ("HS-HLS", "会龙山社区", "会龙山街道"),
    ("HS-LL", "龙岭社区", "龙岭工业园"),
    ("HS-HB", "赫山社区", "赫山街道"),
)
DEMO_ACCOUNTS = (  # username, password, role, community code
    ("admin", "heshan-guanli-2021", Role.ADMIN, None),
    ("evaluator", "heshan-pingjia-2021", Role.EVALUATOR, None),
    ("worker-thl", "heshan-shequ-2021", Role.WORKER, "HS-THL"),
    ("worker-thl2", "heshan-shequ-2021", Role.WORKER, "HS-THL"),
    ("worker-jys", "heshan-shequ-2021", Role.WORKER, "HS-JYS"),
)
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"


@dataclass
class DemoSummary:
    created: bool
    households: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    responses: dict[str, int] = field(default_factory=dict)
    example_links: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        state = "created" if self.created else "already loaded (unchanged)"
        out = [f"Demo campaign {SLUG}: {state} (previous year: {demo_previous.SLUG})",
               f"  households: {self.households}  sampled: {self.sampled}",
               f"  completed responses by mode: {self.responses}",
               "Demo region 湖南省 430000 > 益阳市 430900 > 赫山区 430903, 资阳区 430902 "
               "(ziyang-2021), 桃江县 430922 (taojiang-2021); city roll-up: "
               "/evaluate/units/430900/2021",
               "Demo logins (demo data only; never use these passwords in production):"]
        out += [f"  {name:<12} {password:<22} {role}" for name, password, role, _ in DEMO_ACCOUNTS]
        if self.example_links:
            out.append("Survey links for sampled households that have not answered yet:")
            out += [f"  {link}" for link in self.example_links]
        return out


def load_demo(*, session: Session, example_links: int = 3) -> DemoSummary:
    campaign = campaigns.get_campaign(SLUG, session=session)
    created = campaign is None
    if created:
        campaign = _create(session)
    # The same area's 2020 campaign, compared year over year (created once).
    demo_previous.load_previous(campaign, session=session)
    # The region (湖南省 → 益阳市 → 赫山区 and two more counties with campaigns of their own)
    # after Heshan, from generators of its own: Heshan's figures do not depend on it.
    from survey_app.services import demo_region

    demo_region.load_region(session=session)
    summary = _summarise(campaign, session)
    summary.created = created
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    waiting = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled,
        Household.disposition == Disposition.PENDING).order_by(Household.sample_rank)
        .limit(example_links)).all()
    summary.example_links = [base + tokens.survey_path(tokens.issue_token(h, session=session))
                             for h in waiting]
    return summary


def _summarise(campaign: Campaign, session: Session) -> DemoSummary:
    households = session.exec(select(Household).where(Household.campaign_id == campaign.id)).all()
    by_group: dict[str, int] = {}
    for h in households:
        by_group[h.household_group] = by_group.get(h.household_group, 0) + 1
    by_mode: dict[str, int] = {}
    for r in session.exec(select(Response).where(Response.campaign_id == campaign.id,
                                                 Response.status == "complete")).all():
        by_mode[r.mode] = by_mode.get(r.mode, 0) + 1
    return DemoSummary(created=False, households=dict(sorted(by_group.items())),
                       sampled=sum(h.sampled for h in households),
                       responses=dict(sorted(by_mode.items())))


def _create(session: Session) -> Campaign:
    rng = random.Random(SEED)  # noqa: S311 - synthetic demo data, not security
    for code, name, street in COMMUNITIES:
        if session.exec(select(Community).where(Community.code == code)).first() is None:
            session.add(Community(code=code, name=name, street=street))
    session.flush()
    campaign = campaigns.create_campaign(SLUG, TITLE, 2021, session=session, district="赫山区")
    campaign.opens_on = date(2021, 11, 1)
    # Left open so that the demo survey links can be answered today.
    campaign.closes_on = None
    campaign.status = CampaignStatus.OPEN
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    pii_key = current_app.config["PII_KEY"]
    # Synthetic names, addresses and phones (演示…, 170… numbers), sealed like real ones.
    roster.import_roster(campaign, _roster_rows(rng), session=session, pii_key=pii_key,
                         contact_key=current_app.config["CONTACT_KEY"], is_demo=True)
    for name, planned in PROJECTS:
        project = session.exec(select(roster.Project).where(
            roster.Project.campaign_id == campaign.id, roster.Project.name == name)).one()
        project.planned_households = planned
        session.add(project)
    sampling.draw_sample(campaign, SEED, session=session)
    accounts = {}
    for username, password, role, community in DEMO_ACCOUNTS:
        accounts[username] = session.exec(select(User).where(User.username == username)).first() \
            or users.create_user(username, password, role, session=session,
                                 community_code=community, display_name=f"演示{username}")
    _simulate_responses(campaign, rng, accounts, session)
    # Its own generator: the responses above (and the golden report) stay as they were.
    _simulate_visits(campaign, random.Random(SEED + 1), session)  # noqa: S311 - demo data
    return campaign


def _fake_id_number(rng: random.Random) -> str:
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
    first17 = f"430903{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_number_check_char(first17)


def _roster_rows(rng: random.Random) -> list[roster.RosterRow]:
    rows = []
    groups = [(HouseholdGroup.RELOCATED, name, count) for name, count in PROJECTS]
    groups.append((HouseholdGroup.RENTAL_SUBSIDY, "", RENTAL_SUBSIDY_HOUSEHOLDS))
    number = 0
    seen_ids: set[str] = set()
    for group, project, count in groups:
        prefix = "PG" if group == HouseholdGroup.RELOCATED else "ZL"
        for _ in range(count):
            number += 1
            _, community, street = COMMUNITIES[rng.randrange(len(COMMUNITIES))]
            id_number = _fake_id_number(rng)
            while id_number in seen_ids:
                id_number = _fake_id_number(rng)
            seen_ids.add(id_number)
            rows.append(roster.RosterRow(number + 1, {
                "household_code": f"{prefix}{number:05d}", "group": group.value,
                "project": project, "community": community, "street": street,
                "head_name": f"演示{rng.choice(SURNAMES)}{number}",
                "id_number": id_number, "phone": f"170{rng.randrange(0, 10**8):08d}",
                "address": f"{street}演示路{rng.randrange(1, 300)}号",
            }))
    return rows


@dataclass
class _Simulation:
    """What simulating one campaign's responses needs at hand."""

    campaign: Campaign
    rng: random.Random
    versions: dict
    forms: dict
    communities: dict[int, str]
    projects: dict[int, str]
    workers: dict[str, list[User]]
    # Answers draw from their own stream, so a change to the answer model leaves who
    # answered, when and how (the stream above) as it was.
    answer_rng: random.Random = field(default_factory=lambda: random.Random(SEED + 1))
    # 09:00 in Beijing on the first fieldwork day; submits fall in the next 40 days.
    start: datetime = datetime(2021, 11, 3, 1, 0, tzinfo=UTC)

    def submitted_at(self) -> datetime:
        return self.start + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 40))

    def instance_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def answers(self, group: str, household: Household | None, *, on_paper: bool) -> dict:
        community = self.communities.get(household.community_id) if household else None
        project = self.projects.get(household.project_id) if household else None
        latent = household_latent(self.answer_rng, group, community, project)
        return simulated_answers(self.forms[group], self.answer_rng,
                                 Resident(group, latent, on_paper=on_paper))


def _simulate_responses(campaign: Campaign, rng: random.Random, accounts: dict[str, User],
                        session: Session) -> None:
    versions = {g: questionnaire_versions.version_for_group(campaign, g, session=session)
                for g in HouseholdGroup}
    communities = {c.id: c.code for c in session.exec(select(Community)).all()}
    projects = {p.id: p.name for p in session.exec(select(roster.Project).where(
        roster.Project.campaign_id == campaign.id)).all()}
    workers = {code: [a for a in accounts.values() if a.community_id
                      and communities[a.community_id] == code] for code in communities.values()}
    sim = _Simulation(campaign, rng, versions,
                      {g: questionnaire_versions.questionnaire_of(v) for g, v in versions.items()},
                      communities, projects, workers)
    sampled = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled)
        .order_by(Household.household_group, Household.sample_rank)).all()
    for household in sampled:
        _simulate_household(sim, household, session)
    # Residents not in the sample, through the open poster link: 16 identified their roster
    # household (household code and check code, or ID tail and phone), 24 did not and are
    # stored unverified (services.open_identity).
    unsampled = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled == False)  # noqa: E712
        .order_by(Household.id)).all()
    identified = rng.sample(unsampled, min(16, len(unsampled)))
    for k in range(40):
        household = identified[k] if k < len(identified) else None
        group = household.household_group if household else rng.choice(list(HouseholdGroup))
        submitted = sim.submitted_at()
        store_response(
            session=session, campaign=campaign, version=versions[group], group=group,
            mode=ResponseMode.WEB_OPEN, instance_id=sim.instance_id(), household=household,
            values=sim.answers(group, household, on_paper=False),
            started_at=submitted - timedelta(seconds=rng.randrange(90, 600)),
            submitted_at=submitted,
        )
        if household is not None:
            household.disposition = Disposition.COMPLETED
            session.add(household)
    session.flush()


def _simulate_household(sim: _Simulation, household: Household, session: Session) -> None:
    """20 % not reached yet, 8 % a final non-response, else a web or paper (40 %) response."""
    rng = sim.rng
    roll = rng.random()
    if roll >= 0.80:
        household.disposition = Disposition.PENDING
        return
    if roll >= 0.72:
        household.disposition = rng.choice([Disposition.REFUSED, Disposition.NOT_AT_HOME,
                                            Disposition.MOVED])
        return
    group = household.household_group
    submitted = sim.submitted_at()
    paper_workers = sim.workers.get(sim.communities[household.community_id]) or []
    on_paper = bool(paper_workers) and rng.random() < 0.4
    values = sim.answers(group, household, on_paper=on_paper)
    response, _ = store_response(
        session=session, campaign=sim.campaign, version=sim.versions[group], group=group,
        mode=ResponseMode.PAPER if on_paper else ResponseMode.WEB_TOKEN,
        instance_id=sim.instance_id(), values=values, household=household,
        entered_by=paper_workers[0] if on_paper else None,
        started_at=submitted - timedelta(seconds=rng.randrange(120, 600)),
        submitted_at=submitted,
    )
    household.disposition = Disposition.COMPLETED
    session.add(household)
    if on_paper:
        _paper_record(sim.campaign, household, response, values, paper_workers, session)


def _paper_record(campaign, household, response, values, workers, session) -> None:
    """Two agreeing blind entries, as double entry leaves a verified paper form."""
    form = PaperForm(campaign_id=campaign.id, household_id=household.id,
                     status=PaperFormStatus.VERIFIED, batch="demo", response_id=response.id)
    session.add(form)
    session.flush()
    digest = payload_hash(values)
    # Keying times from their own generator, so the answers' stream stays as it was: each
    # worker keys in a morning sitting (09:00-12:00 Beijing) of a November 2021 day, one
    # to four minutes a form; the second entry a day or two later.
    clock = random.Random(f"keying:{household.household_code}")
    saved = datetime(2021, 11, 3, 1, 0, tzinfo=UTC) + timedelta(
        days=clock.randrange(0, 14), minutes=clock.randrange(0, 180))
    for round_number in (1, 2):
        typist = workers[(round_number - 1) % len(workers)]
        session.add(PaperEntry(paper_form_id=form.id, entry_round=round_number,
                               entered_by_id=typist.id, answers=dict(values),
                               payload_hash=digest, created_at=saved,
                               started_at=saved - timedelta(seconds=clock.randrange(60, 240))))
        saved += timedelta(days=clock.randrange(1, 3))


#: Attempts before the outcome the demo household ended with (a final non-response is
#: tried up to three times, a paper form was usually filled at the first or second visit).
_VISIT_PLAN = {
    Disposition.REFUSED: (1, 2), Disposition.NOT_AT_HOME: (2, 3), Disposition.MOVED: (1, 2),
}


def _simulate_visits(campaign: Campaign, rng: random.Random, session: Session) -> None:
    """Visit-log entries by the demo workers of the households' communities (Nov 2021)."""
    workers: dict[int, list[User]] = {}
    for user in session.exec(select(User).where(User.role == Role.WORKER)).all():
        workers.setdefault(user.community_id, []).append(user)
    paper = set(session.exec(select(PaperForm.household_id).where(
        PaperForm.campaign_id == campaign.id)).all())
    for household in session.exec(select(Household).where(
            Household.campaign_id == campaign.id, Household.sampled)
            .order_by(Household.id)).all():
        staff = workers.get(household.community_id)
        if household.id in paper:
            attempts, outcome = rng.randint(1, 2), Disposition.COMPLETED
        elif household.disposition in _VISIT_PLAN:
            attempts, outcome = rng.randint(*_VISIT_PLAN[household.disposition]), \
                household.disposition
        else:
            continue
        if not staff:
            continue
        day = datetime(2021, 11, 2, 1, 0, tzinfo=UTC) + timedelta(days=rng.randrange(0, 14))
        for number in range(1, attempts + 1):
            at = day + timedelta(days=2 * (number - 1), minutes=rng.randrange(0, 11 * 60))
            session.add(Visit(
                campaign_id=campaign.id, household_id=household.id,
                worker_id=rng.choice(staff).id, attempted_at=at,
                channel="phone" if rng.random() < 0.3 else "visit",
                outcome=outcome if number == attempts else Disposition.NOT_AT_HOME))
    session.flush()
