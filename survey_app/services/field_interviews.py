"""Interviews taken on a community worker's phone, offline if need be, stored exactly once
(issue 22).

The field page (``entry/field.py``) caches :func:`field_pack` (the campaign's
questionnaires as their definitions and the worker's sampled households, codes only) and
keeps each finished interview in the phone's IndexedDB under a form instance id (a UUID made
on the phone). Syncing posts one interview at a time to :func:`take_interview`:

Exactly once
    The household's row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite
    the write transaction that reads first begins IMMEDIATE), so two tabs or a retried post
    of the same interview run one after the other. A repeat of a stored instance with the
    same answers for the same household returns the stored response and its receipt
    (:class:`Stored` with ``created`` false); other answers under that instance id are an
    :class:`InstanceConflict`. The response is written by ``responses.store_response``, the
    store of the resident submit, idempotent on ``(campaign, instance_id)``.
Another channel first
    A household that already has a completed response (web link, open link, paper, another
    interview) is :class:`AnsweredElsewhere`, naming that response's mode: the first response
    of a household counts, whatever the channel (as for identified open-link answers).
Mode
    ``interview`` (``ResponseMode.INTERVIEW``), its own mode rather than ``paper`` with a
    flag: an interviewer reading the questions aloud is the mode effect the evaluators must
    be able to see (social desirability is strongest face to face), so the scores filter and
    the mode comparisons list it beside web and paper; paper keying (double entry,
    reconciliation, ``paper:<form id>`` instance ids) does not apply to it.
Paradata
    Start and end on the phone, seconds per question and the optional position go to
    :class:`~survey_app.models.InterviewParadata`, one row per response, never into the
    answers. ``started_at``/``submitted_at`` of the response are the phone's start and end,
    so the existing duration-based quality flags read interviews too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from questionnaires import validate_answers
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Disposition,
    Household,
    InterviewParadata,
    ResponseMode,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.models import Response as SurveyResponse
from survey_app.services import audit
from survey_app.services.open_identity import counted_response_of
from survey_app.services.paper_entry import printed_code, scoped_households
from survey_app.services.questionnaire_versions import attached_versions, questionnaire_of
from survey_app.services.responses import (
    ConflictingResubmission,
    NotTakingAnswers,
    find_by_instance,
    payload_hash,
    store_response,
)
from survey_app.services.survey_session import LOCAL_ZONE
from survey_app.services.survey_submit import lock_household, mark_answered

#: A form instance id made on the phone: a UUID (crypto.randomUUID, version 4), lower case.
INSTANCE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
POSITION_STATUSES = ("given", "refused", "unavailable", "not_asked")
#: A phone clock ahead of the server's by more than this is not believed.
CLOCK_SLACK = timedelta(minutes=10)
#: An interview longer than this (a phone left on a question overnight) is not believed.
LONGEST_INTERVIEW = timedelta(hours=12)


@dataclass(frozen=True)
class Paradata:
    """How an interview was taken, as the phone reports it (see :func:`read_paradata`)."""

    started_at: datetime
    ended_at: datetime
    question_seconds: dict[str, float]
    position_status: str = "not_asked"
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None


class ParadataError(ValueError):
    """The paradata of a posted interview cannot be read (``reason`` names the part), or
    its times are out of bounds (``problem``: ``too_early`` for a start before the
    campaign's field start, ``future`` for an end ahead of the clock beyond
    :data:`CLOCK_SLACK`; ``moment`` the refused time)."""

    def __init__(self, reason: str, problem: str = "unreadable",
                 moment: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason, self.problem, self.moment = reason, problem, moment


@dataclass(frozen=True)
class Stored:
    """Stored by this post (``created``) or by an earlier post of the same interview."""

    response: SurveyResponse
    created: bool


@dataclass(frozen=True)
class Invalid:
    """The answers break the questionnaire now in force: ``errors`` by question id."""

    errors: Mapping[str, str]


@dataclass(frozen=True)
class AnsweredElsewhere:
    """The household has a completed response through another channel (``mode``)."""

    mode: str


@dataclass(frozen=True)
class InstanceConflict:
    """The instance id was stored before with other answers or for another household."""

    instance_id: str


@dataclass(frozen=True)
class NotTaking:
    """The campaign takes no answers (closed, or not open on the interview's day), or the
    household's group has no questionnaire."""

    reason: str


@dataclass(frozen=True)
class NotSampled:
    """The household is not in the campaign's sample: the field pack never lists it, and
    paper entry takes it only when the worker chooses all households (``?all``)."""


InterviewOutcome = (Stored | Invalid | AnsweredElsewhere | InstanceConflict | NotTaking
                    | NotSampled)


def _when(value: object, reason: str) -> datetime:
    if not isinstance(value, str):
        raise ParadataError(reason)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ParadataError(reason)
        # A time at the calendar's ends (0001-01-01T00:00+14:00) overflows in UTC or Beijing
        # time: refused here, not a server error when the interview's day is taken.
        for zone in (UTC, LOCAL_ZONE):
            moment.astimezone(zone)
    except (ValueError, OverflowError):
        raise ParadataError(reason) from None
    return moment


def _number(value: object, low: float, high: float, reason: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParadataError(reason)
    if not low <= value <= high:
        raise ParadataError(reason)
    return float(value)


def read_paradata(raw: object, *, question_ids: set[str], now: datetime,
                  earliest: datetime | None = None) -> Paradata:
    """The paradata posted with an interview, checked; :class:`ParadataError` otherwise.

    ``earliest``: no interview starts before it (the campaign's field start,
    ``campaigns.field_start``), allowing a phone clock :data:`CLOCK_SLACK` slow; nor ends
    more than :data:`CLOCK_SLACK` after ``now``.

    >>> from datetime import UTC
    >>> p = read_paradata({"started_at": "2026-12-06T02:00:00Z",
    ...                    "ended_at": "2026-12-06T02:04:10Z", "question_seconds": {"q": 12.5},
    ...                    "position": {"status": "refused"}},
    ...                   question_ids={"q"}, now=datetime(2026, 12, 6, 3, tzinfo=UTC))
    >>> (p.ended_at - p.started_at).seconds, p.question_seconds, p.position_status
    (250, {'q': 12.5}, 'refused')
    """
    if not isinstance(raw, Mapping):
        raise ParadataError("paradata")
    started, ended = _when(raw.get("started_at"), "started_at"), _when(raw.get("ended_at"),
                                                                       "ended_at")
    if earliest is not None and started < earliest - CLOCK_SLACK:
        raise ParadataError("started_at", "too_early", started)
    if ended > now + CLOCK_SLACK:
        raise ParadataError("ended_at", "future", ended)
    if not started <= ended or ended - started > LONGEST_INTERVIEW:
        raise ParadataError("times")
    seconds = raw.get("question_seconds") or {}
    if not isinstance(seconds, Mapping) or not set(seconds) <= question_ids:
        raise ParadataError("question_seconds")
    per_question = {str(qid): _number(value, 0, LONGEST_INTERVIEW.total_seconds(),
                                      "question_seconds") for qid, value in seconds.items()}
    position = raw.get("position") or {}
    if not isinstance(position, Mapping) or position.get("status", "not_asked") not in \
            POSITION_STATUSES:
        raise ParadataError("position")
    status = position.get("status", "not_asked")
    if status != "given":
        return Paradata(started, ended, per_question, status)
    return Paradata(started, ended, per_question, status,
                    latitude=_number(position.get("latitude"), -90, 90, "position"),
                    longitude=_number(position.get("longitude"), -180, 180, "position"),
                    accuracy_m=_number(position.get("accuracy"), 0, 1e6, "position"))


def field_pack(campaign: Campaign, worker: User, *, session: Session,
               locale: str = "zh") -> dict:
    """What the field page keeps on the phone: the campaign's questionnaires (their
    definitions, which the phone's interpreter reads) by household group, and the worker's
    sampled households not yet completed (id, printed code, group; no contact data)."""
    versions = attached_versions(campaign, session=session)
    questionnaires = {group: {"version_id": version.id, "content_hash": version.content_hash,
                              "definition": questionnaire_of(version).to_dict()}
                      for group, version in versions.items()}
    households = households_to_visit(campaign, worker, session=session)
    return {
        "campaign": {"slug": campaign.slug, "title": campaign.title,
                     "open": campaign.status == CampaignStatus.OPEN},
        "locale": locale,
        "questionnaires": questionnaires,
        "households": [{"id": h.id, "code": printed_code(h), "group": h.household_group}
                       for h in households if h.household_group in questionnaires],
    }


def households_to_visit(campaign: Campaign, worker: User, *,
                        session: Session) -> list[Household]:
    """The worker's sampled households (their own community) not yet completed."""
    return [h for h in session.exec(scoped_households(campaign, worker,
                                                      sampled_only=True)).all()
            if h.disposition != Disposition.COMPLETED]


def take_interview(*, session: Session, campaign: Campaign, household: Household,
                   worker: User, instance_id: str, raw_answers: Mapping[str, object],
                   paradata: Paradata, locale: str = "zh") -> InterviewOutcome:
    """Validate and store one interview exactly once (see the module docstring).

    ``household`` must be one the worker may see (``paper_entry.household_for``); one not
    sampled is :class:`NotSampled` (a crafted post, or a sample drawn again since the phone
    took its pack), before anything is read or written.
    """
    if not household.sampled:
        return NotSampled()
    versions = attached_versions(campaign, session=session)
    version = versions.get(household.household_group)
    if version is None:
        return NotTaking("no_questionnaire")
    questionnaire = questionnaire_of(version)
    check = validate_answers(questionnaire, _as_posted(raw_answers))
    if not check.ok:
        return Invalid(dict(check.errors))
    lock_household(household, session=session)
    repeated = _repeat(campaign, household, instance_id, check.values, session=session)
    if repeated is not None:
        return repeated
    earlier = counted_response_of(household, session=session)
    if earlier is not None:
        return AnsweredElsewhere(earlier.mode)
    try:
        response, created = store_response(
            session=session, campaign=campaign, version=version,
            group=household.household_group, mode=ResponseMode.INTERVIEW,
            instance_id=instance_id, values=check.values, household=household,
            entered_by=worker, started_at=paradata.started_at,
            submitted_at=min(paradata.ended_at, utcnow()), locale=locale,
            open_on=paradata.ended_at.astimezone(LOCAL_ZONE).date(),
            questionnaire=questionnaire)
    except NotTakingAnswers:
        return NotTaking("closed")
    except ConflictingResubmission:
        return InstanceConflict(instance_id)
    if created:
        mark_answered(household, None, session=session)
        _record_paradata(response, worker, paradata, session=session)
        audit.record("response.interview", "response", response.id, session=session,
                     actor=worker, campaign_id=campaign.id,
                     details={"mode": ResponseMode.INTERVIEW, "group": household.household_group,
                              "household_id": household.id,
                              "position": paradata.position_status})
    return Stored(response, created)


def _as_posted(raw: Mapping[str, object]) -> dict[str, list[str]]:
    """The phone's answers as ``validate_answers`` reads a post: strings or lists of them."""
    posted: dict[str, list[str]] = {}
    for qid, value in raw.items():
        items = value if isinstance(value, list) else [value]
        posted[str(qid)] = [item if isinstance(item, str) else str(item)
                            for item in items if item is not None and not isinstance(item, dict)]
    return posted


def _repeat(campaign: Campaign, household: Household, instance_id: str, values, *,
            session: Session) -> InterviewOutcome | None:
    """The outcome of a post repeating a stored instance; None if the instance is new."""
    existing = find_by_instance(campaign, instance_id, session=session)
    if existing is None:
        return None
    if (existing.status != ResponseStatus.COMPLETE or existing.household_id != household.id
            or existing.payload_hash != payload_hash(values)):
        return InstanceConflict(instance_id)
    return Stored(existing, False)


def _record_paradata(response: SurveyResponse, worker: User, paradata: Paradata, *,
                     session: Session) -> None:
    session.add(InterviewParadata(
        response_id=response.id, campaign_id=response.campaign_id, worker_id=worker.id,
        started_at=paradata.started_at, ended_at=paradata.ended_at,
        question_seconds=paradata.question_seconds, position_status=paradata.position_status,
        latitude=paradata.latitude, longitude=paradata.longitude,
        accuracy_m=paradata.accuracy_m))
    session.flush()
