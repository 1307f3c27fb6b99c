"""Sample planning and a reproducible stratified simple random draw.

Per household group (stratum): n from Cochran's formula with the finite-population
correction ``n = ceil(n0 / (1 + (n0 - 1)/N))`` (``analysis.planning``), then
``contacts = ceil(n / expected response rate)`` households are drawn, at most N.

The draw is reproducible bit for bit from the seed: households of a group are sorted
by household code *in Python* (a database ``ORDER BY`` would follow the server's
collation, which differs between SQLite and PostgreSQL) and
``random.Random(f"{seed}:{group}").sample`` picks them. The stdlib generator seeded
from a string is stable across Python versions and platforms. The audit event records
the seed, the plan and a SHA-256 of the sampled household codes, so anyone can re-run
the draw and check it.

A redraw (only before any response exists) revokes the live access tokens of
households that drop out of the sample, so no letter printed for the old sample still
opens the survey.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from survey_app.models import AccessToken, Campaign, Household, Response, User, utcnow
from survey_app.services import audit

if TYPE_CHECKING:
    from analysis.planning import SampleSize

# The seed column is a 32-bit integer on PostgreSQL.
MAX_SEED = 2**31 - 1


class SampleError(ValueError):
    """The sample could not be drawn; the message says why."""


@dataclass(frozen=True)
class StratumPlan:
    group: str
    population: int
    size: SampleSize
    contacts: int


def set_sample_settings(campaign: Campaign, *, session: Session, confidence: float | None = None,
                        margin: float | None = None, response_rate: float | None = None,
                        actor: User | None = None) -> Campaign:
    """Change the planning inputs; they take effect at the next draw. Once responses exist
    the sample is fixed, and so are the inputs it was planned with."""
    if _response_count(campaign, session=session):
        raise SampleError(_("the campaign already has responses; its sample settings are fixed"))
    checks = ((_("the confidence level"), confidence, 0.5, 0.999),
              (_("the margin of error"), margin, 0.005, 0.5),
              (_("the expected response rate"), response_rate, 0.05, 1.0))
    for name, value, low, high in checks:
        if value is not None and not low <= value <= high:
            raise SampleError(_("%(name)s must lie between %(low)s and %(high)s", name=name,
                                low=format(low, "g"), high=format(high, "g")))
    if confidence is not None:
        campaign.sample_confidence = confidence
    if margin is not None:
        campaign.sample_margin = margin
    if response_rate is not None:
        campaign.expected_response_rate = response_rate
    session.add(campaign)
    session.flush()
    audit.record("sample.settings", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"confidence": campaign.sample_confidence,
                          "margin": campaign.sample_margin,
                          "response_rate": campaign.expected_response_rate})
    return campaign


def plan_sample(campaign: Campaign, *, session: Session) -> list[StratumPlan]:
    """Sample size and contacts per household group, from the campaign's settings."""
    # Imported here: the `analysis` package loads numpy and scipy, which the admin
    # forms (this module's MAX_SEED) and the resident pages must not wait for.
    from analysis.planning import cochran_sample_size, contacts_needed

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
        raise SampleError(_("a sample was already drawn (seed %(seed)s); confirm a redraw "
                            "to replace it", seed=campaign.sample_seed))
    answered = _response_count(campaign, session=session)
    if answered:
        raise SampleError(_("the campaign already has %(n)s responses; the sample can no "
                            "longer be redrawn", n=answered))
    plans = plan_sample(campaign, session=session)
    if not plans:
        raise SampleError(_("the campaign has no households; import the roster first"))
    if not 0 <= seed <= MAX_SEED:
        raise SampleError(_("the seed must be a whole number from 0 to %(max)s", max=MAX_SEED))
    households = sorted(session.exec(select(Household).where(
        Household.campaign_id == campaign.id)).all(), key=lambda h: h.household_code)
    for plan in plans:
        members = [h for h in households if h.household_group == plan.group]
        chosen = random.Random(f"{seed}:{plan.group}").sample(members, plan.contacts)  # noqa: S311
        rank = {h.id: i for i, h in enumerate(chosen, start=1)}
        for h in members:
            h.sampled = h.id in rank
            h.sample_rank = rank.get(h.id)
            session.add(h)
    revoked = _revoke_tokens_of_unsampled(campaign, session=session)
    sampled_codes = sorted(h.household_code for h in households if h.sampled)
    campaign.sample_seed = seed
    campaign.sample_drawn_at = utcnow()
    session.add(campaign)
    session.flush()
    audit.record("sample.draw", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"seed": seed, "redraw": redraw, "tokens_revoked": revoked,
                          "sampled_codes_sha256": hashlib.sha256(
                              "\n".join(sampled_codes).encode()).hexdigest(),
                          "strata": {
                     p.group: {"population": p.population, "n": p.size.n,
                               "contacts": p.contacts, "formula": p.size.formula}
                     for p in plans}})
    return plans


def _revoke_tokens_of_unsampled(campaign: Campaign, *, session: Session) -> int:
    stale = session.exec(select(AccessToken).join(
        Household, AccessToken.household_id == Household.id).where(
        Household.campaign_id == campaign.id, Household.sampled.is_(False),
        AccessToken.revoked_at.is_(None))).all()
    now = utcnow()
    for token in stale:
        token.revoked_at = now
        session.add(token)
    session.flush()
    return len(stale)


def sampled_households(campaign: Campaign, *, session: Session) -> list[Household]:
    """The sampled households in draw order within each group."""
    return list(session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled).order_by(
        Household.household_group, Household.sample_rank)).all())


def _response_count(campaign: Campaign, *, session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)
                        .where(Response.campaign_id == campaign.id)).one()
