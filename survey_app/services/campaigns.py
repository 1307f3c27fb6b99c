"""Campaigns: creation, status, dates, indicator settings and the overview counts.

Indicator settings follow METHODS.md section 5. ``indicator_rule_params`` holds, per rule:

* ``proportional``: nothing;
* ``stepwise``: ``{"deduction_per_point": d, "floor": f, "whole_points": bool}``;
* ``bands``: ``{"bands": [[threshold, points], ...]}``.

:func:`indicator_rule` turns the stored settings into the ``analysis.indicator`` rule object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from survey_app.labels import label
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Household,
    Response,
    ResponseStatus,
    User,
    as_utc,
)
from survey_app.services import audit
from survey_app.services.score_filters import BEIJING

if TYPE_CHECKING:
    from analysis.indicator import BandRule, ProportionalRule, StepwiseRule

MEASURES = ("rate", "score", "index")
RULES = ("proportional", "stepwise", "bands")
# What happens when a paper form arrives for a household that already answered on the web.
DUPLICATE_RULES = ("keep_first", "keep_web", "ask_admin")
_STATUS_MOVES = {
    CampaignStatus.OPEN: {CampaignStatus.DRAFT, CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: {CampaignStatus.OPEN},
}


class CampaignError(ValueError):
    """A campaign could not be created or changed; the message says why."""


@dataclass(frozen=True)
class CampaignOverview:
    campaign: Campaign
    households: int
    sampled: int
    completed: int


@dataclass(frozen=True)
class IndicatorSettings:
    """Validated indicator settings, ready to be stored on a campaign."""

    measure: str = "rate"
    target: float = 0.90
    points: float = 10.0
    rule: str = "proportional"
    deduction_per_point: float | None = None
    floor: float = 0.0
    whole_points: bool = False
    bands: tuple[tuple[float, float], ...] = ()

    def rule_params(self) -> dict:
        if self.rule == "stepwise":
            return {"deduction_per_point": self.deduction_per_point, "floor": self.floor,
                    "whole_points": self.whole_points}
        if self.rule == "bands":
            return {"bands": [list(band) for band in self.bands]}
        return {}


def get_campaign(slug: str, *, session: Session) -> Campaign | None:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).first()


def create_campaign(
    slug: str, title: str, year: int, *, session: Session, district: str = "",
    actor: User | None = None,
) -> Campaign:
    slug = slug.strip()
    if not slug or len(slug) > 64 or not all(
            ch.isascii() and (ch.isalnum() or ch == "-") for ch in slug):
        raise CampaignError("slug must be up to 64 ASCII letters, digits and '-'")
    if not title.strip():
        raise CampaignError("title must not be empty")
    if not 2000 <= year <= 2100:
        raise CampaignError("year must lie between 2000 and 2100")
    if get_campaign(slug, session=session) is not None:
        raise CampaignError(_("campaign “%(slug)s” already exists", slug=slug))
    campaign = Campaign(slug=slug, title=title.strip(), year=year, district=district.strip())
    session.add(campaign)
    session.flush()
    audit.record("campaign.create", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"slug": slug})
    return campaign


def set_status(campaign: Campaign, status: str, *, session: Session,
               actor: User | None = None) -> Campaign:
    """Open or close a campaign (a closed one can be reopened; nothing returns to draft)."""
    if status not in _STATUS_MOVES:
        raise CampaignError(f"status must be one of {', '.join(_STATUS_MOVES)}")
    if campaign.status == status:
        raise CampaignError(f"the campaign is already {status}")
    if campaign.status not in _STATUS_MOVES[status]:
        raise CampaignError(f"a {campaign.status} campaign cannot become {status}")
    previous = campaign.status
    campaign.status = status
    session.add(campaign)
    session.flush()
    audit.record(f"campaign.{status}", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"from": previous, "to": status})
    return campaign


def field_start(campaign: Campaign) -> datetime:
    """The earliest moment an interview or a visit attempt of ``campaign`` can have taken
    place (aware, UTC): the start of its opening day in Beijing, or, without one, when the
    campaign was set up in the app (its roster and sample, hence its visits, come after).

    >>> from datetime import UTC
    >>> field_start(Campaign(slug="x", title="x", year=2026, opens_on=date(2026, 11, 1)))
    datetime.datetime(2026, 10, 31, 16, 0, tzinfo=datetime.timezone.utc)
    >>> field_start(Campaign(slug="x", title="x", year=2026,
    ...                      created_at=datetime(2026, 9, 1, 8, 30)))
    datetime.datetime(2026, 9, 1, 8, 30, tzinfo=datetime.timezone.utc)
    """
    if campaign.opens_on is not None:
        return datetime.combine(campaign.opens_on, time(), tzinfo=BEIJING).astimezone(UTC)
    return as_utc(campaign.created_at)


def first_day(campaign: Campaign) -> str:
    """:func:`field_start` as a message shows it: the opening day, or the Beijing day and
    time the campaign was set up.

    >>> first_day(Campaign(slug="x", title="x", year=2026, opens_on=date(2026, 11, 1)))
    '2026-11-01'
    >>> first_day(Campaign(slug="x", title="x", year=2026,
    ...                    created_at=datetime(2026, 9, 1, 8, 30)))
    '2026-09-01 16:30'
    """
    if campaign.opens_on is not None:
        return campaign.opens_on.isoformat()
    return field_start(campaign).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def set_dates(campaign: Campaign, opens_on: date | None, closes_on: date | None, *,
              session: Session, actor: User | None = None) -> Campaign:
    if opens_on and closes_on and closes_on < opens_on:
        raise CampaignError(_("the closing date is before the opening date"))
    campaign.opens_on, campaign.closes_on = opens_on, closes_on
    session.add(campaign)
    session.flush()
    audit.record("campaign.dates", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"opens_on": opens_on.isoformat() if opens_on else None,
                          "closes_on": closes_on.isoformat() if closes_on else None})
    return campaign


def set_letter_details(campaign: Campaign, *, commissioner: str, evaluator_org: str,
                       hotline: str, session: Session, actor: User | None = None) -> Campaign:
    """Who the letters say is asking (委托单位, 评价机构) and the hotline residents call."""
    campaign.commissioner = commissioner.strip()
    campaign.evaluator_org = evaluator_org.strip()
    campaign.hotline = hotline.strip()
    session.add(campaign)
    session.flush()
    audit.record("campaign.letter_details", "campaign", campaign.id, session=session,
                 actor=actor, label=None if actor else "cli", campaign_id=campaign.id,
                 details={"commissioner": campaign.commissioner,
                          "evaluator_org": campaign.evaluator_org,
                          "hotline": campaign.hotline})
    return campaign


def check_indicator_settings(
    *, measure: str, target: float, points: float, rule: str,
    deduction_per_point: float | None = None, floor: float = 0.0, whole_points: bool = False,
    bands: Sequence[tuple[float, float]] = (),
) -> IndicatorSettings:
    """Validate indicator settings; CampaignError names the first bad field and why."""
    if measure not in MEASURES:
        raise CampaignError(f"measure must be one of {', '.join(MEASURES)}")
    if rule not in RULES:
        raise CampaignError(f"rule must be one of {', '.join(RULES)}")
    upper = 1.0 if measure == "rate" else 100.0
    if not 0 < target <= upper:
        raise CampaignError(_("the target of the %(measure)s must be above 0 and at most "
                              "%(upper)s", measure=label(measure), upper=format(upper, "g")))
    if not 0 < points <= 100:
        raise CampaignError(_("the points must be above 0 and at most 100"))
    bands = tuple((float(t), float(p)) for t, p in bands)
    if rule == "stepwise":
        _check_stepwise(deduction_per_point, floor, points)
    if rule == "bands":
        _check_bands(bands, upper, points)
    return IndicatorSettings(measure, float(target), float(points), rule,
                             deduction_per_point if rule == "stepwise" else None,
                             float(floor) if rule == "stepwise" else 0.0,
                             bool(whole_points) if rule == "stepwise" else False,
                             tuple(sorted(bands, reverse=True)) if rule == "bands" else ())


def _check_stepwise(deduction_per_point: float | None, floor: float, points: float) -> None:
    if deduction_per_point is None or deduction_per_point <= 0:
        raise CampaignError(_("the stepwise rule needs a positive deduction per point"))
    if not 0 <= floor <= points:
        raise CampaignError(_("the floor must lie between 0 and the points"))


def _check_bands(bands: tuple[tuple[float, float], ...], upper: float, points: float) -> None:
    """Thresholds on the measure's scale (0..upper), band points within the points."""
    if not bands:
        raise CampaignError(_("the bands rule needs at least one band (threshold:points)"))
    for threshold, band_points in bands:
        if not 0 <= threshold <= upper or not 0 <= band_points <= points:
            raise CampaignError(_("band %(band)s is out of range (threshold 0 to %(upper)s, "
                                  "points 0 to %(points)s)",
                                  band=format(threshold, "g") + ":" + format(band_points, "g"),
                                  upper=format(upper, "g"), points=format(points, "g")))
    if len({t for t, _ in bands}) != len(bands):
        raise CampaignError(_("two bands have the same threshold"))


def parse_bands(text: str) -> list[tuple[float, float]]:
    """``"0.9:10, 0.8:8"`` → ``[(0.9, 10.0), (0.8, 8.0)]``; CampaignError when malformed."""
    bands = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        threshold, sep, band_points = part.partition(":")
        try:
            if not sep:
                raise ValueError
            bands.append((float(threshold), float(band_points)))
        except ValueError:
            raise CampaignError(_("band “%(band)s” is not threshold:points, e.g. 0.9:10",
                                  band=part)) from None
    return bands


def update_settings(
    campaign: Campaign, settings: IndicatorSettings, *, session: Session,
    double_entry: bool | None = None, duplicate_rule: str | None = None,
    actor: User | None = None,
) -> Campaign:
    """Store indicator settings (and optionally the paper-entry settings)."""
    if duplicate_rule is not None and duplicate_rule not in DUPLICATE_RULES:
        raise CampaignError(f"duplicate rule must be one of {', '.join(DUPLICATE_RULES)}")
    campaign.indicator_measure = settings.measure
    campaign.indicator_target = settings.target
    campaign.indicator_points = settings.points
    campaign.indicator_rule = settings.rule
    campaign.indicator_rule_params = settings.rule_params()
    if double_entry is not None:
        campaign.double_entry = double_entry
    if duplicate_rule is not None:
        campaign.duplicate_rule = duplicate_rule
    session.add(campaign)
    session.flush()
    audit.record("campaign.settings", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"measure": settings.measure, "target": settings.target,
                          "points": settings.points, "rule": settings.rule,
                          "rule_params": settings.rule_params(),
                          "double_entry": campaign.double_entry,
                          "duplicate_rule": campaign.duplicate_rule})
    return campaign


def indicator_settings_of(campaign: Campaign) -> IndicatorSettings:
    params = campaign.indicator_rule_params or {}
    return IndicatorSettings(
        campaign.indicator_measure, campaign.indicator_target, campaign.indicator_points,
        campaign.indicator_rule, params.get("deduction_per_point"), params.get("floor", 0.0),
        params.get("whole_points", False),
        tuple(tuple(band) for band in params.get("bands", ())))


def indicator_rule(campaign: Campaign) -> ProportionalRule | StepwiseRule | BandRule:
    """The ``analysis.indicator`` rule object for the campaign's stored settings."""
    # numpy/scipy come with `analysis`: imported when a rule is needed, not by every page.
    from analysis.indicator import BandRule, ProportionalRule, StepwiseRule

    settings = indicator_settings_of(campaign)
    if settings.rule == "stepwise":
        return StepwiseRule(settings.deduction_per_point or 0.0, settings.floor,
                            settings.whole_points)
    if settings.rule == "bands":
        return BandRule(tuple((float(t), float(p)) for t, p in settings.bands))
    return ProportionalRule()


def has_responses(campaign: Campaign, *, session: Session) -> int:
    """How many responses (any mode, any status) the campaign has."""
    return session.exec(select(func.count()).select_from(Response)
                        .where(Response.campaign_id == campaign.id)).one()


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
