"""Data-quality flags on complete responses, and evaluator exclusions (audited).

A flag is a reason to look, not a verdict: nothing is excluded automatically. An evaluator
excludes a response with a reason; the scores document with ``include_excluded=True`` shows
the numbers without the exclusions, so both can be compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from questionnaires.elements import RATING_CODES
from survey_app.models import (
    Campaign,
    Household,
    Response,
    ResponseMode,
    ResponseStatus,
    User,
    as_utc,
    utcnow,
)
from survey_app.services import audit

#: About 15 questions cannot be read and answered in under a minute.
MIN_SECONDS = 60
#: Straight-lining needs at least this many valid (non-NA) rating answers, all identical.
MIN_STRAIGHT_ITEMS = 5
#: Open-link responses from one fingerprint: this many within the window is a burst.
BURST_COUNT = 3
BURST_WINDOW = timedelta(hours=1)

FLAG_LABELS = {
    "too_fast": _l("answered implausibly fast"),
    "straight_lining": _l("all rating answers identical"),
    "open_link_burst": _l("many open-link responses from one device or network"),
    "web_and_paper": _l("web and paper answers for the same household"),
}


class ExclusionError(ValueError):
    """The response cannot be excluded or restored; the message says why."""


@dataclass
class FlaggedResponse:
    response_id: int
    pseudonym: str
    household_group: str
    mode: str
    submitted_at: datetime | None
    excluded: bool
    exclusion_reason: str | None
    flags: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)




def flag_responses(campaign: Campaign, *, session: Session,
                   min_seconds: int = MIN_SECONDS) -> list[FlaggedResponse]:
    """Every complete response of the campaign with at least one flag (excluded ones too)."""
    rows = session.exec(
        select(Response, Household.pseudonym)
        .join(Household, Household.id == Response.household_id, isouter=True)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.COMPLETE)
        .order_by(Response.id)).all()
    pseudonyms = {response.id: pseudonym for response, pseudonym in rows}
    responses = [response for response, _ in rows]
    checks = (
        ("too_fast", _too_fast(responses, min_seconds)),
        ("straight_lining", _straight_lining(responses)),
        ("open_link_burst", _open_link_bursts(responses)),
        ("web_and_paper", _web_and_paper(responses)),
    )
    found: dict[int, FlaggedResponse] = {}
    for kind, hits in checks:
        for response, detail in hits:
            entry = found.setdefault(response.id, FlaggedResponse(
                response.id, pseudonyms[response.id] or f"OPEN-{response.id}",
                response.household_group, response.mode, response.submitted_at,
                response.excluded, response.exclusion_reason))
            entry.flags.append(kind)
            entry.details.append(detail)
    return [found[k] for k in sorted(found)]


def _too_fast(responses: list[Response], min_seconds: int) -> Iterator[tuple[Response, str]]:
    for response in responses:
        start, end = as_utc(response.started_at), as_utc(response.submitted_at)
        if start and end and (end - start).total_seconds() < min_seconds:
            yield response, _l("%(seconds)s s < %(minimum)s s",
                               seconds=int((end - start).total_seconds()), minimum=min_seconds)


def _straight_lining(responses: list[Response]) -> Iterator[tuple[Response, str]]:
    # Response.rating_codes: one character per rating item of the response's questionnaire
    # (services.answer_copies), so no answer rows are read.
    for response in responses:
        answered = [code for code in response.rating_codes if code in RATING_CODES]
        if len(answered) >= MIN_STRAIGHT_ITEMS and len(set(answered)) == 1:
            yield response, _l("%(n)s x code %(code)s", n=len(answered), code=answered[0])


def _open_link_bursts(responses: list[Response]) -> Iterator[tuple[Response, str]]:
    """Open-link responses of one fingerprint, BURST_COUNT or more within BURST_WINDOW."""
    by_fingerprint: dict[str, list[Response]] = defaultdict(list)
    for response in responses:
        if response.mode == ResponseMode.WEB_OPEN and response.client_fingerprint:
            by_fingerprint[response.client_fingerprint].append(response)
    for group in by_fingerprint.values():
        # Keyed by time alone: equal times must not fall through to comparing responses.
        times = sorted(((as_utc(r.submitted_at) or as_utc(r.created_at), r) for r in group),
                       key=lambda pair: pair[0])
        # One pass with two ends (O(k log k) with the sort): window i is times[i:end], the
        # responses within BURST_WINDOW of the i-th; each is flagged once, with the size of
        # the first window big enough that holds it.
        end = flagged_up_to = 0
        for i, (t, _) in enumerate(times):
            end = max(end, i)
            while end < len(times) and times[end][0] - t <= BURST_WINDOW:
                end += 1
            if end - i < BURST_COUNT:
                continue
            for _, r in times[max(i, flagged_up_to):end]:
                yield r, _l("%(n)s responses within %(minutes)s minutes", n=end - i,
                            minutes=int(BURST_WINDOW.total_seconds() // 60))
            flagged_up_to = max(flagged_up_to, end)


def _web_and_paper(responses: list[Response]) -> Iterator[tuple[Response, str]]:
    by_household: dict[int, list[Response]] = defaultdict(list)
    for response in responses:
        if response.household_id is not None:
            by_household[response.household_id].append(response)
    for group in by_household.values():
        modes = {"paper" if r.mode == ResponseMode.PAPER else "web" for r in group}
        if modes == {"paper", "web"}:
            for r in group:
                yield r, _l("%(n)s responses of one household", n=len(group))


def set_exclusion(response_id: int, *, campaign: Campaign, excluded: bool, reason: str,
                  actor: User, session: Session) -> Response:
    """Exclude a response from the counted data (or count it again), with an audited reason."""
    response = session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id:
        raise ExclusionError(f"response {response_id} does not belong to this campaign")
    if response.status != ResponseStatus.COMPLETE:
        raise ExclusionError(f"response {response_id} is {response.status}, not complete")
    if response.excluded == excluded:
        raise ExclusionError(f"response {response_id} is already "
                             + ("excluded" if excluded else "counted"))
    response.excluded = excluded
    response.exclusion_reason = reason.strip() if excluded else None
    response.updated_at = utcnow()
    session.add(response)
    session.flush()
    audit.record("response.exclude" if excluded else "response.restore", "response", response.id,
                 session=session, actor=actor, campaign_id=campaign.id, reason=reason.strip())
    return response
