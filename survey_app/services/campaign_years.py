"""Campaigns of the same area in different years: a campaign names its predecessor.

``survey-app campaign create heshan-2022 --previous heshan-2021`` (:func:`create_following`)
starts next year's campaign from this year's: indicator settings and rule, paper-entry and
sampling settings, the letters' 委托单位/评价机构/hotline, the questionnaire of each household
group (the same stored versions, so wording stays identical unless someone changes it) and
the report's 一级指标 and uploaded Word template. Not copied: the roster, sample, links and
responses (a new year has its own), the dates, and the evaluator's 偏差原因分析 (it explains
one year's figures). Roster column mappings are typed on each upload and not stored, so
there is none to copy.

The scores document compares a campaign's headline figures with its predecessor's
(:mod:`survey_app.services.year_over_year`).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from survey_app.models import Campaign, CampaignQuestionnaire, CampaignReport, User
from survey_app.services import audit
from survey_app.services.campaigns import CampaignError, create_campaign, get_campaign

#: Campaign columns a following year starts from (see the module docstring).
COPIED_SETTINGS = (
    "district", "indicator_measure", "indicator_target", "indicator_points", "indicator_rule",
    "indicator_rule_params", "double_entry", "duplicate_rule", "sample_confidence",
    "sample_margin", "expected_response_rate", "commissioner", "evaluator_org", "hotline",
    "unit_id",  # the same county: its scoped evaluators and roll-ups see the new year
)


def previous_campaign(campaign: Campaign, *, session: Session) -> Campaign | None:
    """The campaign ``campaign`` names as its predecessor (None: none)."""
    if campaign.previous_campaign_id is None:
        return None
    return session.get(Campaign, campaign.previous_campaign_id)


def earlier_campaigns(campaign: Campaign, *, session: Session) -> list[Campaign]:
    """Campaigns of earlier years than ``campaign``, newest first (its possible
    predecessors)."""
    return list(session.exec(select(Campaign).where(Campaign.year < campaign.year)
                             .order_by(Campaign.year.desc(), Campaign.slug)).all())


def check_previous(campaign: Campaign, previous: Campaign, *, session: Session) -> None:
    """CampaignError unless ``previous`` can be ``campaign``'s predecessor: another campaign
    of an earlier year, not itself following ``campaign`` (no cycle), not in another unit."""
    if previous.id == campaign.id:
        raise CampaignError(_("a campaign cannot be its own predecessor"))
    if previous.year >= campaign.year:
        raise CampaignError(_("the predecessor “%(slug)s” (%(year)s) is not of an earlier year",
                              slug=previous.slug, year=previous.year))
    if campaign.unit_id and previous.unit_id and campaign.unit_id != previous.unit_id:
        # Its headline figures show in this campaign's scores, to this unit's evaluators.
        raise CampaignError(_("the predecessor “%(slug)s” lies in another region",
                              slug=previous.slug))
    seen, step = {campaign.id}, previous
    while step is not None:
        if step.id in seen:
            raise CampaignError(_("“%(slug)s” already follows this campaign", slug=previous.slug))
        seen.add(step.id)
        step = previous_campaign(step, session=session)


def set_previous(campaign: Campaign, previous: Campaign | None, *, session: Session,
                 actor: User | None = None) -> Campaign:
    """Name ``previous`` as ``campaign``'s predecessor (None: no comparison)."""
    if previous is not None:
        check_previous(campaign, previous, session=session)
    campaign.previous_campaign_id = previous.id if previous is not None else None
    session.add(campaign)
    session.flush()
    audit.record("campaign.previous", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"previous": previous.slug if previous is not None else None})
    return campaign


def following_title(previous: Campaign, year: int) -> str:
    """The predecessor's title with its year replaced.

    Examples
    --------
    >>> following_title(Campaign(slug="a", title="赫山区2021年度调查", year=2021), 2022)
    '赫山区2022年度调查'
    """
    return previous.title.replace(str(previous.year), str(year))


def create_following(slug: str, previous_slug: str, *, session: Session,
                     title: str | None = None, year: int | None = None,
                     actor: User | None = None) -> Campaign:
    """A new campaign ``slug`` following ``previous_slug``, starting from its settings,
    questionnaires and report settings (see the module docstring)."""
    previous = get_campaign(previous_slug, session=session)
    if previous is None:
        raise CampaignError(_("no campaign “%(slug)s”", slug=previous_slug))
    year = year if year is not None else previous.year + 1
    campaign = create_campaign(slug, title or following_title(previous, year), year,
                               session=session, district=previous.district, actor=actor)
    for name in COPIED_SETTINGS:
        value = getattr(previous, name)
        setattr(campaign, name, dict(value) if isinstance(value, dict) else value)
    check_previous(campaign, previous, session=session)
    campaign.previous_campaign_id = previous.id
    session.add(campaign)
    for link in session.exec(select(CampaignQuestionnaire).where(
            CampaignQuestionnaire.campaign_id == previous.id)).all():
        session.add(CampaignQuestionnaire(campaign_id=campaign.id,
                                          household_group=link.household_group,
                                          questionnaire_version_id=link.questionnaire_version_id))
    report = session.get(CampaignReport, previous.id)
    if report is not None:
        session.add(CampaignReport(campaign_id=campaign.id, first_level=report.first_level,
                                   template=report.template,
                                   template_sha256=report.template_sha256))
    session.flush()
    audit.record("campaign.copy", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"previous": previous.slug, "settings": list(COPIED_SETTINGS),
                          "questionnaires": True, "report_settings": report is not None})
    return campaign
