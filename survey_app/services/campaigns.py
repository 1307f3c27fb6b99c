"""Campaigns: creation, status and the overview counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from survey_app.models import Campaign, Household, Response, ResponseStatus, User
from survey_app.services import audit


class CampaignError(ValueError):
    """A campaign could not be created or changed; the message says why."""


@dataclass(frozen=True)
class CampaignOverview:
    campaign: Campaign
    households: int
    sampled: int
    completed: int


def get_campaign(slug: str, *, session: Session) -> Campaign | None:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).first()


def create_campaign(
    slug: str, title: str, year: int, *, session: Session, district: str = "",
    actor: User | None = None,
) -> Campaign:
    slug = slug.strip()
    if not slug or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in slug):
        raise CampaignError("slug must be ASCII letters, digits and '-'")
    if get_campaign(slug, session=session) is not None:
        raise CampaignError(f"campaign {slug!r} already exists")
    campaign = Campaign(slug=slug, title=title.strip(), year=year, district=district)
    session.add(campaign)
    session.flush()
    audit.record("campaign.create", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"slug": slug})
    return campaign


def campaign_overview(*, session: Session) -> list[CampaignOverview]:
    campaigns = session.exec(select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)).all()
    households = dict(session.exec(
        select(Household.campaign_id, func.count()).group_by(Household.campaign_id)).all())
    sampled = dict(session.exec(
        select(Household.campaign_id, func.count()).where(Household.sampled)
        .group_by(Household.campaign_id)).all())
    completed = dict(session.exec(
        select(Response.campaign_id, func.count())
        .where(Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.campaign_id)).all())
    return [CampaignOverview(c, households.get(c.id, 0), sampled.get(c.id, 0),
                             completed.get(c.id, 0)) for c in campaigns]
