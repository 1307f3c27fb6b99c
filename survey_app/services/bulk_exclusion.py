"""Excluding (or counting again) every response that carries one quality flag, at once.

After an open-link flood an evaluator decides about thousands of flagged responses, not one
at a time. The decision is still theirs and still audited: each response changed gets its
own ``response.exclude``/``response.restore`` event with the evaluator's reason, and one
``response.bulk_exclude``/``bulk_restore`` event records the flag and the count. All or
nothing: the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from survey_app.models import Campaign, Role, User
from survey_app.services import audit
from survey_app.services.quality_flags import FLAG_LABELS, flag_responses, set_exclusion

DECIDERS = (Role.EVALUATOR, Role.ADMIN)


class BulkExclusionError(ValueError):
    """The bulk decision was refused; the message says why."""


@dataclass(frozen=True)
class BulkExclusion:
    flag: str
    excluded: bool
    changed: tuple[int, ...]
    already: int


def decide_flagged(campaign: Campaign, flag: str, *, exclude: bool, reason: str, actor: User,
                   session: Session) -> BulkExclusion:
    """Exclude (``exclude=True``) or count again every complete response flagged ``flag``.

    Responses already in the asked state are left alone and counted in ``already``.
    """
    if flag not in FLAG_LABELS:
        raise BulkExclusionError(f"unknown flag {flag!r}; choose one of "
                                 f"{', '.join(sorted(FLAG_LABELS))}")
    if not reason.strip():
        raise BulkExclusionError("a reason is required: it is kept in the audit trail")
    if actor.role not in DECIDERS or not actor.active:
        raise BulkExclusionError(f"user {actor.username!r} is not an active evaluator or "
                                 "administrator")
    flagged = [f for f in flag_responses(campaign, session=session) if flag in f.flags]
    to_change = [f.response_id for f in flagged if f.excluded != exclude]
    for response_id in to_change:
        set_exclusion(response_id, campaign=campaign, excluded=exclude, reason=reason,
                      actor=actor, session=session)
    audit.record("response.bulk_exclude" if exclude else "response.bulk_restore", "campaign",
                 campaign.id, session=session, actor=actor, campaign_id=campaign.id,
                 reason=reason.strip(), details={"flag": flag, "responses": len(to_change)})
    return BulkExclusion(flag=flag, excluded=exclude, changed=tuple(to_change),
                         already=len(flagged) - len(to_change))
