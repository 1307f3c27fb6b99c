"""Sample planning and a reproducible stratified simple random draw.

Per household group (stratum): n from Cochran's formula with the finite-population
correction ``n = ceil(n0 / (1 + (n0 - 1)/N))`` (``analysis.planning``), then
``contacts = ceil(n / expected response rate)`` households are drawn, at most N.

The draw is reproducible bit for bit from the seed: households of a group are sorted
by household code and ``random.Random(f"{seed}:{group}").sample`` picks them. The
stdlib generator seeded from a string is stable across Python versions and platforms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from analysis.planning import SampleSize, cochran_sample_size, contacts_needed
from survey_app.models import Campaign, Household, Response, User, utcnow
from survey_app.services import audit


class SampleError(ValueError):
    """The sample could not be drawn; the message says why."""


@dataclass(frozen=True)
class StratumPlan:
    group: str
    population: int
    size: SampleSize
    contacts: int


def plan_sample(campaign: Campaign, *, session: Session) -> list[StratumPlan]:
    """Sample size and contacts per household group, from the campaign's settings."""
    populations = session.exec(
        select(Household.household_group, func.count())
        .where(Household.campaign_id == campaign.id)
        .group_by(Household.household_group).order_by(Household.household_group)
    ).all()
    plans = []
    for group, population in populations:
        size = cochran_sample_size(population, margin=campaign.sample_margin,
                                   confidence=campaign.sample_confidence)
        contacts = min(population, contacts_needed(size.n, campaign.expected_response_rate))
        plans.append(StratumPlan(group, population, size, contacts))
    return plans


def draw_sample(campaign: Campaign, seed: int, *, session: Session, redraw: bool = False,
                actor: User | None = None) -> list[StratumPlan]:
    """Mark the sampled households; refuse a redraw unless asked, and always once answered."""
    if campaign.sample_drawn_at is not None and not redraw:
        raise SampleError(f"a sample was already drawn (seed {campaign.sample_seed}); "
                          "use --redraw to replace it")
    answered = session.exec(select(func.count()).select_from(Response)
                            .where(Response.campaign_id == campaign.id)).one()
    if answered:
        raise SampleError(f"the campaign already has {answered} responses; "
                          "the sample can no longer be redrawn")
    plans = plan_sample(campaign, session=session)
    if not plans:
        raise SampleError("the campaign has no households; import the roster first")
    households = session.exec(select(Household).where(Household.campaign_id == campaign.id)
                              .order_by(Household.household_code)).all()
    for plan in plans:
        members = [h for h in households if h.household_group == plan.group]
        chosen = random.Random(f"{seed}:{plan.group}").sample(members, plan.contacts)  # noqa: S311
        rank = {h.id: i for i, h in enumerate(chosen, start=1)}
        for h in members:
            h.sampled = h.id in rank
            h.sample_rank = rank.get(h.id)
            session.add(h)
    campaign.sample_seed = seed
    campaign.sample_drawn_at = utcnow()
    session.add(campaign)
    session.flush()
    audit.record("sample.draw", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"seed": seed, "redraw": redraw, "strata": {
                     p.group: {"population": p.population, "n": p.size.n,
                               "contacts": p.contacts, "formula": p.size.formula}
                     for p in plans}})
    return plans
