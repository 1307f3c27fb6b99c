"""The resident's final submit: one call that validates, stores, retries once, and says
what became of the post.

:func:`submit_survey` is the one service that owns its write (``db.write()``: one commit,
a rollback on any refusal) rather than leaving the commit to the view, because its retry
needs a transaction of its own. Its outcome is one of :class:`Stored`, :class:`Invalid`,
:class:`Conflict` and :class:`Refused`, which the view renders (a redirect to the receipt,
the form again with the errors, 409, or a refusal page).

The retry: the write checks again what the post read or reused before it (the campaign
still open, the token neither revoked nor used, the group's questionnaire unchanged, see
:func:`survey_session.confirm_token` and ``store_response(open_on=...)``). A write refused
as ``unavailable`` (the campaign closed, or its questionnaire replaced, since the link was
read or remembered) is handled once more from the database: the link is resolved again and
the answers checked against the questionnaire now in force. A second refusal stands.

Exactly once: :func:`submit_response` is idempotent on the form instance id (a retried
submit returns the stored response), a token's row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite write transactions that read first begin IMMEDIATE) so parallel submits
of one token run one after the other, and a token accepts one completed response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlmodel import Session, select

from questionnaires import Questionnaire
from survey_app.models import (
    AccessToken,
    Disposition,
    Household,
    Response,
    ResponseStatus,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.open_identity import counted_response_of, gives_way_to_letter
from survey_app.services.responses import (
    AnswerValues,
    ConflictingResubmission,
    NotTakingAnswers,
    find_by_instance,
    new_receipt_code,
    payload_hash,
    replace_answers,
    store_response,
)
from survey_app.services.survey_session import (
    AlreadyAnswered,
    SurveyLink,
    SurveyTarget,
    SurveyUnavailable,
    check_answers,
    confirm_token,
    draft_of,
    earliest_start,
    local_today,
)

if TYPE_CHECKING:
    from survey_app.db import Database


class SurveyAnswersPost(Protocol):
    """A survey post as :func:`submit_survey` reads it (``public.forms.SurveyPost``)."""

    instance_id: str
    started_at: datetime | None  # when the form instance was first shown (signed)

    def answers(self, questionnaire: Questionnaire) -> dict[str, list[str]]:
        """The posted answer strings of ``questionnaire``'s questions."""


@dataclass(frozen=True)
class Stored:
    """The response is stored: by this post (``created``) or by an earlier one of the same
    form instance with the same answers (a retried submit)."""

    response: Response
    created: bool


@dataclass(frozen=True)
class Invalid:
    """The answers do not satisfy the questionnaire (``target``'s, which a retry may have
    replaced): ``answers`` as posted, ``errors`` by question id."""

    target: SurveyTarget
    answers: Mapping[str, list[str]]
    errors: Mapping[str, str]


@dataclass(frozen=True)
class Conflict:
    """The form instance was stored before with other answers (or for another household)."""

    instance_id: str


@dataclass(frozen=True)
class Refused:
    """The link cannot take the answers (``refusal.reason``: unavailable, revoked or used)."""

    refusal: SurveyUnavailable


SubmitOutcome = Stored | Invalid | Conflict | Refused


def submit_survey(link: SurveyLink, target: SurveyTarget, post: SurveyAnswersPost, *,
                  database: Database, locale: str, fingerprint: str | None) -> SubmitOutcome:
    """Validate and store a resident's completed answers; at most one retry (see the
    module docstring).

    ``target``: what ``link`` resolved to for this post (for an open link possibly
    remembered, :class:`survey_session.OpenLinks`); ``database``: its ``write()`` is the
    transaction of each attempt, its ``session`` reads the link again for the retry.
    """
    outcome: SubmitOutcome | None = None
    for retry in (False, True):
        if retry:
            try:
                target = _resolve_again(link, session=database.session)
            except SurveyUnavailable as exc:
                return Refused(exc)
        answers = post.answers(target.questionnaire)
        check = check_answers(target, answers)
        if not check.ok:
            return Invalid(target, answers, check.errors)
        outcome = _store(target, check.values, database=database,
                         instance_id=post.instance_id, locale=locale, fingerprint=fingerprint,
                         started_at=post.started_at)
        if not (isinstance(outcome, Refused) and outcome.refusal.reason == "unavailable"):
            break
    return outcome


def _resolve_again(link: SurveyLink, *, session: Session) -> SurveyTarget:
    """The link's target read from the database; a used token's too (a retried submit of
    the post that used it must still get its receipt)."""
    try:
        return link.resolve(session=session)
    except SurveyUnavailable as exc:
        if exc.reason != "used":
            raise
        return exc.target


def _store(target: SurveyTarget, values: AnswerValues, *, database: Database,
           instance_id: str, locale: str, fingerprint: str | None,
           started_at: datetime | None) -> SubmitOutcome:
    """One attempt: :func:`submit_response` in its own write transaction."""
    try:
        with database.write(writes_first=target.submit_writes_first) as session:
            response, created = submit_response(
                target, values, session=session, instance_id=instance_id, locale=locale,
                fingerprint=fingerprint, started_at=started_at)
    except ConflictingResubmission:
        return Conflict(instance_id)
    except AlreadyAnswered:
        return Refused(SurveyUnavailable("used", target))
    except SurveyUnavailable as exc:  # closed, revoked or changed since the link was resolved
        return Refused(exc)
    return Stored(response, created)


def submit_response(target: SurveyTarget, values: AnswerValues, *, session: Session,
                    instance_id: str, locale: str = "zh", fingerprint: str | None = None,
                    started_at: datetime | None = None) -> tuple[Response, bool]:
    """Store the completed response; return it and whether this call completed it.

    A repeat of the same instance with the same answers returns the stored response;
    with other answers it raises ConflictingResubmission. A used token raises
    AlreadyAnswered; a campaign closed or a token revoked since the link was resolved
    raises SurveyUnavailable.
    """
    if target.access_token is not None:
        # The household's row before its token's: the order of every channel that stores a
        # household's response (paper, interview, open link), so two never deadlock.
        lock_household(target.household, session=session)
    token = confirm_token(target, session=session)
    event = audit.Entry("response.submit", "response", label="resident",
                        campaign_id=target.campaign.id,
                        details={"mode": target.mode, "group": target.group})
    draft = None
    if token is not None:
        repeated = _token_repeat(target, values, instance_id, session=session)
        if repeated is not None:
            return repeated, False
        if token.used_at is not None:
            raise AlreadyAnswered
        _refuse_if_answered_elsewhere(target, session=session)
        draft = draft_of(target, session=session)
    elif target.household is not None:  # an open-link answer of an identified household
        repeated = _household_repeat(target, values, instance_id, session=session)
        if repeated is not None:
            return repeated, False
    if draft is not None:
        response = _complete_draft(draft, values, instance_id=instance_id, locale=locale,
                                   fingerprint=fingerprint, session=session,
                                   started_at=started_at)
        created = True
    else:  # open links have no drafts and no token: the insert itself recognises a repeat
        response, created = _insert_response(target, values, instance_id=instance_id,
                                             locale=locale, fingerprint=fingerprint,
                                             event=event, session=session,
                                             started_at=started_at)
    if created and target.household is not None:
        mark_answered(target.household, token, session=session)
    if draft is not None:  # a new row's event was written by store_response
        audit.record_entry(event, response.id, session=session)
    return response, created


def _token_repeat(target: SurveyTarget, values: AnswerValues, instance_id: str, *,
                  session: Session) -> Response | None:
    """The completed response of this form instance if the token's post is a repeat (same
    answers, same household); ConflictingResubmission if it holds others."""
    existing = find_by_instance(target.campaign, instance_id, session=session)
    if existing is None or existing.status != ResponseStatus.COMPLETE:
        return None
    if (existing.payload_hash != payload_hash(values)
            or existing.household_id != target.household.id):
        raise ConflictingResubmission(instance_id)
    return existing


def _refuse_if_answered_elsewhere(target: SurveyTarget, *, session: Session) -> None:
    """For a letter link's answer: AlreadyAnswered if the household already has its counted
    response through another channel (a verified paper form, an interview, an identified
    open-link answer): the first counts. Under the ``keep_web`` rule a verified paper
    response gives way instead: it is SUPERSEDED and this web answer counts (the household's
    row is already locked)."""
    prior = counted_response_of(target.household, session=session)
    if prior is None:
        return
    if not gives_way_to_letter(prior, target.campaign):
        raise AlreadyAnswered
    prior.status = ResponseStatus.SUPERSEDED
    prior.updated_at = utcnow()
    session.add(prior)
    session.flush()
    audit.record("response.supersede", "response", prior.id, session=session,
                 label="resident", campaign_id=target.campaign.id,
                 details={"rule": "keep_web", "by_mode": target.mode})


def lock_household(household: Household, *, session: Session) -> None:
    """Lock the household's row (PostgreSQL; SQLite's write transaction is IMMEDIATE): every
    channel that checks for the household's counted response first (a letter's link, an
    identified open-link answer, an interview, a paper form) then stores one at a time, and
    always the household's row before its token's, so two never deadlock."""
    session.exec(select(Household.id).where(Household.id == household.id)
                 .with_for_update()).one()


def _household_repeat(target: SurveyTarget, values: AnswerValues, instance_id: str, *,
                      session: Session) -> Response | None:
    """For an identified open-link answer: the household's row locked (PostgreSQL; SQLite's
    write transaction is IMMEDIATE), then its completed response if this post repeats it;
    AlreadyAnswered if the household answered through any channel before (the first
    response counts); None if it has not answered."""
    lock_household(target.household, session=session)
    existing = counted_response_of(target.household, session=session)
    if existing is None:
        return None
    if existing.instance_id == instance_id and existing.payload_hash == payload_hash(values):
        return existing
    raise AlreadyAnswered


def mark_answered(household: Household, token: AccessToken | None, *,
                   session: Session) -> None:
    """The household has its counted response: its letter's link (the token of this post,
    or, for an open-link answer, every live token) now opens the "already answered" page."""
    now = utcnow()
    tokens = [token] if token is not None else session.exec(select(AccessToken).where(
        AccessToken.household_id == household.id, AccessToken.used_at == None,  # noqa: E711
        AccessToken.revoked_at == None)).all()  # noqa: E711
    for live in tokens:
        live.used_at = now
    household.disposition = Disposition.COMPLETED
    session.add_all([*tokens, household])
    session.flush()


def _insert_response(target: SurveyTarget, values: AnswerValues, *, instance_id: str,
                     locale: str, fingerprint: str | None, event: audit.Entry,
                     session: Session, started_at: datetime | None) -> tuple[Response, bool]:
    """A new completed response (with its event), or the stored one of a repeat."""
    try:
        response, created = store_response(
            session=session, campaign=target.campaign, version=target.version,
            group=target.group, mode=target.mode, instance_id=instance_id, values=values,
            household=target.household, locale=locale, fingerprint=fingerprint,
            event=event, open_on=local_today(), questionnaire=target.questionnaire,
            started_at=started_at)
    except NotTakingAnswers:  # closed, or another questionnaire, since the link was resolved
        raise SurveyUnavailable("unavailable") from None
    if not created and response.status != ResponseStatus.COMPLETE:
        raise ConflictingResubmission(instance_id)
    return response, created


def _complete_draft(draft: Response, values: AnswerValues, *, instance_id: str, locale: str,
                    fingerprint: str | None, session: Session,
                    started_at: datetime | None) -> Response:
    replace_answers(draft, values, session=session)
    now = utcnow()
    # The submitted instance id becomes the response's, so a retry of it is recognised.
    draft.instance_id = instance_id
    draft.status = ResponseStatus.COMPLETE
    draft.receipt_code = new_receipt_code()
    draft.submitted_at = now
    # The duration covers every sitting: from the earliest form shown to this submit.
    draft.started_at = earliest_start(draft.started_at, started_at)
    draft.locale = locale
    draft.client_fingerprint = fingerprint
    session.add(draft)
    session.flush()
    return draft
