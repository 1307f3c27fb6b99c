"""Field progress of the sample and non-response dispositions of households.

Each sampled household falls in exactly one outcome, decided in this order:

1. ``completed_paper`` / ``completed_interview`` / ``completed_web``: it has a COMPLETE
   response, keyed from paper, taken by a worker on the phone (mode ``interview``) or
   answered by the resident online (in that order when it has several);
2. ``partial``: a response was saved but not submitted (PARTIAL);
3. otherwise its recorded disposition: ``refused``, ``not_at_home``, ``moved``,
   ``wrong_address``, ``contacted`` (reached, no outcome yet) or ``pending`` (not tried).

``contacted`` in the table is every household reached in person or online: completed, partial,
refused and contacted. AAPOR rates come from :func:`outcome_rates`, the one mapping of outcomes
to :func:`analysis.planning.aapor_rates`: completed → I, partial → P, refused → R, not at
home → NC, contacted without outcome → O, pending → UH (not yet tried, eligibility unknown),
moved and wrong address → UO (eligibility unknown). The response rate reported, in the field
table and in :func:`progress_document` alike, is **RR1**; because nothing is treated as
ineligible it equals completed / sampled. COOP1 (completed among households actually reached)
tells a street office whether the problem is reaching people or convincing them.

The two differ only in what completes a household: the field table counts any complete
response (the household answered; an evaluator's exclusion is not the field's business),
the progress document only counted ones (complete and not excluded), as the scores do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import case
from sqlmodel import Session, col, func, select

if TYPE_CHECKING:
    from analysis.planning import AAPORRates

from survey_app.models import (
    Campaign,
    Community,
    Disposition,
    Household,
    Response,
    ResponseMode,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.paper_entry import may_see_community
from survey_app.services.score_filters import GROUP_LABELS, RATE_DECIMALS
from survey_app.services.score_filters import rounded as _r
from survey_app.services.scores_model import ProgressCampaign, ProgressDocument
from survey_app.services.scores_model import ProgressRow as ProgressDocumentRow

#: Dispositions a worker may record by hand; "completed" only ever comes from a response.
RECORDABLE = (Disposition.CONTACTED, Disposition.REFUSED, Disposition.NOT_AT_HOME,
              Disposition.MOVED, Disposition.WRONG_ADDRESS, Disposition.PENDING)
OUTCOMES = ("completed_web", "completed_paper", "completed_interview", "partial", "refused",
            "not_at_home", "moved", "wrong_address", "contacted", "pending")

COMPLETED = ("completed_web", "completed_paper", "completed_interview")


def _channel(mode: str) -> str:
    """How a complete response of ``mode`` completed its household (household_outcome)."""
    if mode == ResponseMode.PAPER:
        return "paper"
    return "interview" if mode == ResponseMode.INTERVIEW else "web"


@dataclass
class ProgressRow:
    community: str
    group: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def sampled(self) -> int:
        return sum(self.counts.values())

    @property
    def completed(self) -> int:
        return sum(self.counts[outcome] for outcome in COMPLETED)

    @property
    def contacted(self) -> int:
        c = self.counts
        return self.completed + c["partial"] + c["refused"] + c["contacted"]

    @property
    def response_rate(self) -> float | None:
        """AAPOR RR1 (:func:`outcome_rates`)."""
        rates = self.aapor
        return None if rates is None else rates.rr1

    @property
    def aapor(self) -> AAPORRates | None:
        return outcome_rates(self.counts)


def outcome_rates(counts: Mapping[str, int]) -> AAPORRates | None:
    """AAPOR rates of sampled households counted by outcome (:data:`OUTCOMES`); None if none.

    The one mapping of outcomes to AAPOR dispositions (module docstring), for the field
    progress table and the progress document alike. The response rate reported everywhere
    is RR1; with nothing treated as ineligible it is completed / sampled.
    """
    from analysis.planning import aapor_rates  # numpy: not loaded for the entry pages

    if not sum(counts.values()):
        return None
    return aapor_rates(complete=sum(counts[outcome] for outcome in COMPLETED),
                       partial=counts["partial"], refusal=counts["refused"],
                       non_contact=counts["not_at_home"], other=counts["contacted"],
                       unknown_household=counts["pending"],
                       unknown_other=counts["moved"] + counts["wrong_address"])


def household_outcome(disposition: str | None, statuses: Mapping[str, object]) -> str:
    """The outcome of a sampled household with recorded ``disposition``; ``statuses`` says
    (truthy) whether it has a complete ``paper``, ``interview`` or ``web`` response or a
    ``partial`` one."""
    if statuses.get("paper"):
        return "completed_paper"
    if statuses.get("interview"):
        return "completed_interview"
    if statuses.get("web"):
        return "completed_web"
    if statuses.get("partial"):
        return "partial"
    if disposition in OUTCOMES:
        return disposition
    return "pending"  # e.g. "completed" whose response was deleted or excluded


def field_progress(campaign: Campaign, user: User, *, session: Session,
                   community_id: int | None = None) -> tuple[list[ProgressRow], ProgressRow]:
    """Rows per (community, group) the user may see, and their total."""
    query = select(Household).where(Household.campaign_id == campaign.id, Household.sampled)
    if community_id is not None:
        query = query.where(Household.community_id == community_id)
    households = [h for h in session.exec(query).all()
                  if may_see_community(user, h.community_id)]
    ids = [h.id for h in households]
    statuses: dict[int, dict[str, bool]] = defaultdict(dict)
    if ids:
        for household_id, mode, status in session.exec(
                select(Response.household_id, Response.mode, Response.status).where(
                    Response.campaign_id == campaign.id, col(Response.household_id).in_(ids),
                    col(Response.status).in_([ResponseStatus.COMPLETE,
                                              ResponseStatus.PARTIAL]))).all():
            if status == ResponseStatus.PARTIAL:
                statuses[household_id]["partial"] = True
            else:
                statuses[household_id][_channel(mode)] = True
    names = {c.id: c.name for c in session.exec(select(Community)).all()}
    rows: dict[tuple[str, str], ProgressRow] = {}
    total = ProgressRow("", "")
    for household in households:
        key = (names.get(household.community_id, "?"), household.household_group)
        row = rows.setdefault(key, ProgressRow(*key))
        outcome = household_outcome(household.disposition, statuses[household.id])
        row.counts[outcome] += 1
        total.counts[outcome] += 1
    return [rows[key] for key in sorted(rows)], total


class DispositionRefused(ValueError):
    """``reason``: ``not_recordable`` or ``completed`` (the household has a response)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def record_disposition(*, session: Session, household: Household, disposition: str,
                       actor: User) -> None:
    if disposition not in RECORDABLE:
        raise DispositionRefused("not_recordable")
    done = session.exec(select(Response).where(
        Response.household_id == household.id,
        Response.status == ResponseStatus.COMPLETE)).first()
    if done is not None:
        raise DispositionRefused("completed")
    old = household.disposition
    household.disposition = disposition
    session.add(household)
    session.flush()
    audit.record("household.disposition", "household", household.id, session=session,
                 actor=actor, campaign_id=household.campaign_id,
                 details={"old": old, "new": disposition, "at": utcnow().isoformat()})


def progress_document(campaign: Campaign, *, session: Session) -> ProgressDocument:
    """Fieldwork progress: sample, completes by mode, response rates by group and community.

    The response rate is AAPOR RR1 from :func:`outcome_rates`, the same function and
    disposition mapping as the field progress table (module docstring); nothing is treated
    as ineligible, so RR1 = households with a counted response / sampled households. Here a
    household is complete only with a counted response (complete and not excluded by an
    evaluator). ``completed`` counts responses (a roster household's, by its group and
    community); open-link responses have no sample denominator and are counted separately.
    """
    groups, communities, outcomes = _sample_rows(campaign, session=session)
    by_mode, excluded, open_link = _count_responses(campaign, groups, communities,
                                                    session=session)
    partial = session.exec(select(func.count()).select_from(Response).where(
        Response.campaign_id == campaign.id, Response.status == ResponseStatus.PARTIAL)).one()
    total = dict.fromkeys(OUTCOMES, 0)
    for key in groups:
        for outcome, count in outcomes["groups", key].items():
            total[outcome] += count
    return ProgressDocument(
        campaign=ProgressCampaign(slug=campaign.slug, title=campaign.title,
                                  status=campaign.status, opens_on=campaign.opens_on,
                                  closes_on=campaign.closes_on),
        households=sum(r["households"] for r in groups.values()),
        sampled=sum(r["sampled"] for r in groups.values()),
        completed=sum(by_mode.values()),
        completed_from_sample=sum(r["completed"] for r in groups.values()),
        completed_open_link=open_link,
        excluded=excluded,
        partial=int(partial),
        completed_by_mode=dict(sorted(by_mode.items())),
        response_rate=_response_rate(total),
        # The rows are counted up in place as dicts, then frozen.
        groups=[ProgressDocumentRow(**groups[k]) for k in sorted(groups)],
        communities=[ProgressDocumentRow(**communities[k]) for k in sorted(communities)],
        convention="response rate = AAPOR RR1 = completed / sampled households (none "
                      "treated as ineligible; a household is completed by a counted "
                      "response); refusals are sampled households whose field disposition is "
                      "refused and that have no response; open-link responses have no sample "
                      "denominator and are counted separately; excluded responses are not "
                      "completed",
    )


def _response_rate(counts: dict[str, int]) -> float | None:
    rates = outcome_rates(counts)
    return None if rates is None else _r(rates.rr1, RATE_DECIMALS)


def _progress_row(code: str | None, label: str | None) -> dict:
    return {"code": code, "label": label, "households": 0, "sampled": 0, "refused": 0,
            "completed": 0, "response_rate": None}


def _sample_rows(campaign: Campaign, *, session: Session):
    """Rows per group and per community with their roster households and sampled
    households, and each row's sampled households counted by outcome."""
    counted = (Response.status == ResponseStatus.COMPLETE) & (Response.excluded == False)  # noqa: E712
    # The household's responses as one number, highest first in household_outcome's order
    # (counted paper, interview, web, partial), so that one aggregate per household decides.
    answered = func.max(case((counted & (Response.mode == ResponseMode.PAPER), 4),
                             (counted & (Response.mode == ResponseMode.INTERVIEW), 3),
                             (counted, 2), (Response.status == ResponseStatus.PARTIAL, 1),
                             else_=0))
    # Grouped by household id first (a merge join of two id-ordered index scans), then by
    # cell; grouped by the names and the aggregate at once, PostgreSQL sorted every
    # household on disk.
    households = (
        select(Household.household_group, Household.community_id, Household.sampled,
               Household.disposition, answered.label("answered"))
        .join(Response, (Response.household_id == Household.id)
              & (Response.campaign_id == campaign.id), isouter=True)
        .where(Household.campaign_id == campaign.id)
        .group_by(Household.id).subquery())
    cells = session.exec(
        select(*households.c, func.count())
        .group_by(*households.c)).all()
    names = {community.id: community for community in session.exec(select(Community)).all()}
    statuses = {4: {"paper": True}, 3: {"interview": True}, 2: {"web": True},
                1: {"partial": True}}
    tables: dict[str, dict[str, dict]] = {"groups": {}, "communities": {}}
    outcomes: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(OUTCOMES, 0))
    for group, community_id, sampled, disposition, state, count in cells:
        if community_id not in names:
            continue  # no community: not in any row (as before the join dropped it)
        outcome = household_outcome(disposition, statuses.get(state, {})) if sampled else None
        community = names[community_id]
        for table, key, label in (("groups", group, GROUP_LABELS.get(group, group)),
                                  ("communities", community.code, community.name)):
            row = tables[table].setdefault(key, _progress_row(key, label))
            row["households"] += count
            if outcome is not None:
                row["sampled"] += count
                outcomes[table, key][outcome] += count
    for table, rows in tables.items():
        for key, row in rows.items():
            row["refused"] = outcomes[table, key]["refused"]
            row["response_rate"] = _response_rate(outcomes[table, key])
    return tables["groups"], tables["communities"], outcomes


def _count_responses(campaign: Campaign, groups: dict[str, dict], communities: dict[str, dict],
                     *, session: Session) -> tuple[dict[str, int], int, int]:
    """Complete responses by mode, excluded and open-link; each row's ``completed``."""
    resp = session.exec(
        select(Response.household_group, Community.code, Response.mode, Response.excluded,
               func.count())
        .join(Household, Household.id == Response.household_id, isouter=True)
        .join(Community, Community.id == Household.community_id, isouter=True)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.household_group, Community.code, Response.mode,
                  Response.excluded)).all()
    by_mode: dict[str, int] = {}
    excluded = open_link = 0
    for group, ccode, mode, is_excluded, count in resp:
        if is_excluded:
            excluded += count
            continue
        by_mode[mode] = by_mode.get(mode, 0) + count
        if ccode is None:
            open_link += count
            continue
        groups.setdefault(group, _progress_row(group, GROUP_LABELS.get(group, group)))[
            "completed"] += count
        communities.setdefault(ccode, _progress_row(ccode, ccode))["completed"] += count
    return by_mode, excluded, open_link
