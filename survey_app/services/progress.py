"""Field progress of the sample and non-response dispositions of households.

Each sampled household falls in exactly one outcome, decided in this order:

1. ``completed_paper`` / ``completed_web``: it has a COMPLETE response (paper mode or not);
2. ``partial``: a response was saved but not submitted (PARTIAL);
3. otherwise its recorded disposition: ``refused``, ``not_at_home``, ``moved``,
   ``wrong_address``, ``contacted`` (reached, no outcome yet) or ``pending`` (not tried).

``contacted`` in the table is every household reached in person or online: completed, partial,
refused and contacted. The response rate is completed / sampled. AAPOR rates come from
:func:`analysis.planning.aapor_rates` with this mapping: completed → I, partial → P,
refused → R, not at home → NC, contacted without outcome → O, pending → UH (not yet tried,
eligibility unknown), moved and wrong address → UO (eligibility unknown). Because nothing is
treated as ineligible, RR1 equals the simple response rate; COOP1 (completed among households
actually reached) tells a street office whether the problem is reaching people or convincing
them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

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

#: Dispositions a worker may record by hand; "completed" only ever comes from a response.
RECORDABLE = (Disposition.CONTACTED, Disposition.REFUSED, Disposition.NOT_AT_HOME,
              Disposition.MOVED, Disposition.WRONG_ADDRESS, Disposition.PENDING)
OUTCOMES = ("completed_web", "completed_paper", "partial", "refused", "not_at_home", "moved",
            "wrong_address", "contacted", "pending")


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
        return self.counts["completed_web"] + self.counts["completed_paper"]

    @property
    def contacted(self) -> int:
        c = self.counts
        return self.completed + c["partial"] + c["refused"] + c["contacted"]

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.sampled if self.sampled else None

    @property
    def aapor(self):
        from analysis.planning import aapor_rates  # numpy/scipy: not for the entry pages

        c = self.counts
        if not self.sampled:
            return None
        return aapor_rates(complete=self.completed, partial=c["partial"], refusal=c["refused"],
                           non_contact=c["not_at_home"], other=c["contacted"],
                           unknown_household=c["pending"],
                           unknown_other=c["moved"] + c["wrong_address"])


def household_outcome(household: Household, statuses: dict[str, bool]) -> str:
    if statuses.get("paper"):
        return "completed_paper"
    if statuses.get("web"):
        return "completed_web"
    if statuses.get("partial"):
        return "partial"
    if household.disposition in OUTCOMES:
        return household.disposition
    return "pending"  # e.g. "completed" whose response was deleted


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
                statuses[household_id]["paper" if mode == ResponseMode.PAPER else "web"] = True
    names = {c.id: c.name for c in session.exec(select(Community)).all()}
    rows: dict[tuple[str, str], ProgressRow] = {}
    total = ProgressRow("", "")
    for household in households:
        key = (names.get(household.community_id, "?"), household.household_group)
        row = rows.setdefault(key, ProgressRow(*key))
        outcome = household_outcome(household, statuses[household.id])
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
