"""The resident's web survey: which questionnaire a link opens, drafts, and the final submit.

A link is either a household's token (``/s/<token>``) or a campaign's open link
(``/c/<slug>``, the visitor names the household group). :func:`resolve_token` and
:func:`resolve_open_link` turn it into a :class:`SurveyTarget` or raise
:class:`SurveyUnavailable`.

No enumeration oracle: an unknown token and a token (or slug) of a campaign that is not
open both give the reason ``"unavailable"``, and both run the same single query (the link
joined to its campaign and questionnaire version), so neither the answer nor its timing
tells them apart. (A post through an open link may run no query at all: see
:class:`OpenLinks`; open links are public, printed on posters.)
Revoked and used tokens get their own reasons: only the holder of a real letter sees those.

The final submit is :func:`survey_submit.submit_survey`. The writes re-check what
resolving the link checked (:func:`confirm_token`, and the response insert itself for the
campaign), since on SQLite the link is resolved before the write transaction begins
(``db.reads_first``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, inspect
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from questionnaires import AnswerCheck, Questionnaire, validate_answers
from survey_app.caches import ProcessCache
from survey_app.models import (
    AccessToken,
    Campaign,
    CampaignQuestionnaire,
    CampaignStatus,
    Household,
    HouseholdGroup,
    QuestionnaireVersion,
    Response,
    ResponseMode,
    ResponseStatus,
    as_loaded,
    as_utc,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.personal_data import token_hash
from survey_app.services.questionnaire_versions import questionnaire_of
from survey_app.services.responses import (
    AnswerValues,
    answer_values,
    find_by_instance,
    replace_answers,
    store_response,
)

# Campaign dates are calendar dates in China.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


class SurveyUnavailable(Exception):  # noqa: N818 - a page to show, not a programming error
    """The link cannot be answered. ``reason``: unavailable, revoked or used."""

    def __init__(self, reason: str, target: SurveyTarget | None = None):
        super().__init__(reason)
        self.reason = reason
        self.target = target


class AlreadyAnswered(Exception):  # noqa: N818
    """The token already has a completed response."""


@dataclass(frozen=True)
class SurveyTarget:
    """What a link opens: campaign, household group and questionnaire (and token, if any)."""

    campaign: Campaign
    group: str
    version: QuestionnaireVersion
    questionnaire: Questionnaire
    mode: str
    household: Household | None = None
    access_token: AccessToken | None = None
    #: Taken from :class:`OpenLinks` rather than read from the database for this request.
    remembered: bool = False

    @property
    def submit_writes_first(self) -> bool:
        """Whether ``survey_submit.submit_response``'s first statement writes (the insert):
        unidentified open-link answers have no token or household row to lock and check
        first (``db.begin_write``)."""
        return self.access_token is None and self.household is None


def local_today() -> date:
    """Today in China, the calendar of the campaign dates."""
    return datetime.now(LOCAL_ZONE).date()


def campaign_is_open(campaign, *, today: date | None = None) -> bool:
    """Whether ``campaign`` (a Campaign, or a row with its status, opens_on and closes_on)
    takes answers today (a Beijing date)."""
    if campaign is None or campaign.status != CampaignStatus.OPEN:
        return False
    today = today or local_today()
    if campaign.opens_on is not None and today < campaign.opens_on:
        return False
    return campaign.closes_on is None or today <= campaign.closes_on


def _with_version(stmt, group_column):
    """``stmt`` outer-joined to the questionnaire version the campaign gives ``group_column``.

    The definition column is deferred: the parsed questionnaire is cached by content hash
    (questionnaire_of), so a survey request neither reads nor decodes the stored JSON.
    """
    return (stmt.outerjoin(CampaignQuestionnaire,
                           and_(CampaignQuestionnaire.campaign_id == Campaign.id,
                                CampaignQuestionnaire.household_group == group_column))
            .outerjoin(QuestionnaireVersion,
                       QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id)
            .options(defer(QuestionnaireVersion.definition)))


# Built once (a statement's construction and cache key cost more than running it).
_TOKEN_TARGET = _with_version(
    select(AccessToken, Household, Campaign, QuestionnaireVersion)
    .join(Household, Household.id == AccessToken.household_id)
    .join(Campaign, Campaign.id == Household.campaign_id),
    Household.household_group,
).where(AccessToken.token_hash == bindparam("token_hash"))
_OPEN_LINK_TARGET = _with_version(select(Campaign, QuestionnaireVersion),
                                  bindparam("group")).where(Campaign.slug == bindparam("slug"))


def resolve_token(token: str, *, session: Session) -> SurveyTarget:
    """The target of a household's link; raise SurveyUnavailable(reason) if it can't be used."""
    row = session.exec(_TOKEN_TARGET, params={"token_hash": token_hash(token)}).first()
    record, household, campaign, version = row if row is not None else (None,) * 4
    if record is None or version is None or not campaign_is_open(campaign):
        raise SurveyUnavailable("unavailable")
    target = SurveyTarget(campaign=campaign, group=household.household_group, version=version,
                          questionnaire=questionnaire_of(version), mode=ResponseMode.WEB_TOKEN,
                          household=household, access_token=record)
    if record.revoked_at is not None:
        raise SurveyUnavailable("revoked", target)
    if record.used_at is not None:
        raise SurveyUnavailable("used", target)
    return target


def open_campaign(slug: str, *, session: Session) -> Campaign:
    """The campaign of an open link that takes answers today; SurveyUnavailable if none."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if not campaign_is_open(campaign):
        raise SurveyUnavailable("unavailable")
    return campaign


def resolve_open_link(slug: str, group: str | None, *, session: Session,
                      links: OpenLinks | None = None) -> SurveyTarget | None:
    """The target of a campaign's open link; None while the group is not chosen yet.

    Raise SurveyUnavailable("unavailable") for an unknown slug, a campaign that is not open,
    or an unknown group. ``links``: remember the target there (or forget it, refused);
    :meth:`OpenLink.resolve` may use it instead.
    """
    known_group = group in tuple(HouseholdGroup)
    # Before a group is chosen the link needs the relocated questionnaire; an unknown group
    # runs the same query and is refused below.
    asked = group if known_group else HouseholdGroup.RELOCATED.value
    row = session.exec(_OPEN_LINK_TARGET, params={"slug": slug, "group": asked}).first()
    campaign, version = row if row is not None else (None, None)
    if not campaign_is_open(campaign) or version is None or (group is not None and
                                                              not known_group):
        if links is not None and group is not None:
            links.forget(slug, group)
        raise SurveyUnavailable("unavailable")
    if group is None:
        return None
    target = SurveyTarget(campaign=campaign, group=group, version=version,
                          questionnaire=questionnaire_of(version), mode=ResponseMode.WEB_OPEN)
    if links is not None:
        links.remember(slug, target)
    return target


@dataclass(frozen=True)
class TokenLink:
    """A household's link ``/s/<token>``."""

    token: str

    def resolve(self, *, session: Session, reuse: bool = False) -> SurveyTarget:
        """:func:`resolve_token` (``reuse`` is for open links; tokens are always read)."""
        return resolve_token(self.token, session=session)


@dataclass(frozen=True)
class OpenLink:
    """A campaign's open link with its group chosen, ``/c/<slug>/<group>``; ``links``: the
    process's :class:`OpenLinks`, which its resolutions update."""

    slug: str
    group: str
    links: OpenLinks | None = None

    def resolve(self, *, session: Session, reuse: bool = False) -> SurveyTarget:
        """:func:`resolve_open_link`; with ``reuse`` the target remembered in ``links`` if
        it is fresh, without a query (a survey post: its response insert checks again what
        resolving checked, see :class:`OpenLinks`)."""
        if reuse and self.links is not None:
            remembered = self.links.recall(self.slug, self.group)
            if remembered is not None:
                return remembered
        return resolve_open_link(self.slug, self.group, session=session, links=self.links)


SurveyLink = TokenLink | OpenLink


class OpenLinks:
    """What open links resolved to in the last ``ttl_seconds``, per process.

    A survey post through an open link may use it instead of the link query (and, on
    SQLite, instead of a whole read transaction before the write): a fifth of the post's
    CPU. This stays correct when the campaign changed meanwhile because the response
    insert checks, in the same statement, what resolving the link checked: the campaign
    open today and the version (by id and content) still the group's questionnaire
    (``store_response(open_on=...)``). A post refused by that check is resolved again from
    the database (``survey_submit.submit_survey``). What the check does not cover, shown
    only on a page re-rendered for a correction, may be up to ``ttl_seconds`` old.

    Each request gets its own detached copies of the campaign and the version (built from
    the remembered column values), so nothing one request changes reaches another.
    """

    def __init__(self, *, ttl_seconds: float = 60.0, max_entries: int = 256,
                 clock: Callable[[], float] = time.monotonic):
        # The one per-process cache policy (survey_app.caches): bounded, with a lifetime.
        self._entries: ProcessCache[tuple[dict, dict, Questionnaire]] = ProcessCache(
            max_entries=max_entries, ttl_seconds=ttl_seconds, clock=clock)

    def remember(self, slug: str, target: SurveyTarget) -> None:
        if self._entries.enabled:
            self._entries.put((slug, target.group), (
                _loaded_columns(target.campaign), _loaded_columns(target.version),
                target.questionnaire))

    def recall(self, slug: str, group: str) -> SurveyTarget | None:
        entry = self._entries.get((slug, group))
        if entry is None:
            return None
        campaign, version, questionnaire = entry
        return SurveyTarget(campaign=as_loaded(Campaign, campaign), group=group,
                            version=as_loaded(QuestionnaireVersion, version),
                            questionnaire=questionnaire, mode=ResponseMode.WEB_OPEN,
                            remembered=True)

    def forget(self, slug: str, group: str) -> None:
        self._entries.pop((slug, group))


def _loaded_columns(instance) -> dict:
    """The column values an ORM object holds, but for deferred columns not loaded and JSON
    values (a dict would be shared by every copy): reading one of those from a copy raises
    DetachedInstanceError rather than giving a value another request could change."""
    state = inspect(instance)
    return {attr.key: state.dict[attr.key] for attr in state.mapper.column_attrs
            if attr.key in state.dict and not isinstance(state.dict[attr.key], dict | list)}


def check_answers(target: SurveyTarget, raw, *, partial: bool = False) -> AnswerCheck:
    """Validate posted answers; skip logic drops answers to hidden questions."""
    return validate_answers(target.questionnaire, raw, partial=partial)


def draft_of(target: SurveyTarget, *, session: Session) -> Response | None:
    """The household's saved, unfinished response (token links only)."""
    if target.household is None:
        return None
    return session.exec(select(Response).where(
        Response.campaign_id == target.campaign.id,
        Response.household_id == target.household.id,
        Response.status == ResponseStatus.PARTIAL,
    ).order_by(Response.id)).first()


def draft_values(target: SurveyTarget, *, session: Session) -> dict:
    draft = draft_of(target, session=session)
    return answer_values(draft, session=session) if draft is not None else {}


_CAMPAIGN_STATE = (Campaign.status, Campaign.opens_on, Campaign.closes_on)


def confirm_token(target: SurveyTarget, *, session: Session) -> AccessToken | None:
    """Check again, inside the write transaction, what resolving a token link checked.

    The link was resolved (on SQLite: on the read engine) before the write transaction
    began; a campaign closed or a token revoked or used since must refuse the post. The
    token's row is locked too (PostgreSQL; SQLite's write transaction is IMMEDIATE): the
    second of two parallel submits waits here, then sees the first one's response. Returns
    the token as it is now; None for an open link, whose response insert checks the
    campaign itself (``store_response(open_on=...)``).
    """
    if target.access_token is None:
        return None
    row = session.exec(
        select(AccessToken, *_CAMPAIGN_STATE)
        .join(Household, Household.id == AccessToken.household_id)
        .join(Campaign, Campaign.id == Household.campaign_id)
        .where(AccessToken.id == target.access_token.id)
        .with_for_update(of=AccessToken).execution_options(populate_existing=True)
    ).one()
    if not campaign_is_open(row):
        raise SurveyUnavailable("unavailable")
    if row.AccessToken.revoked_at is not None:
        raise SurveyUnavailable("revoked", target)
    return row.AccessToken


def earliest_start(*starts: datetime | None) -> datetime | None:
    """The earliest of the known start times (naive ones are UTC, as SQLite returns them)."""
    known = [as_utc(at) for at in starts if at is not None]
    return min(known) if known else None


def save_draft(target: SurveyTarget, values: AnswerValues, *, session: Session,
               instance_id: str, locale: str = "zh",
               started_at: datetime | None = None) -> Response:
    """Keep partial answers of a token survey server-side (status partial, never counted).

    ``started_at``: when the saved form was first shown; the draft keeps the earliest start
    of its sittings, so the completed response's duration covers all of them.
    """
    if target.access_token is None:
        raise ValueError("only token surveys can be saved and resumed")
    token = confirm_token(target, session=session)
    if token.used_at is not None:
        raise AlreadyAnswered
    draft = draft_of(target, session=session)
    if draft is not None:
        replace_answers(draft, values, session=session)
        draft.locale = locale
        draft.started_at = earliest_start(draft.started_at, started_at)
        session.add(draft)
    else:
        existing = find_by_instance(target.campaign, instance_id, session=session)
        if existing is not None:  # this form instance was already completed
            raise AlreadyAnswered
        draft, _created = store_response(
            session=session, campaign=target.campaign, version=target.version,
            group=target.group, mode=target.mode, instance_id=instance_id, values=values,
            household=target.household, status=ResponseStatus.PARTIAL,
            started_at=started_at or utcnow(), locale=locale)
    audit.record("response.save_draft", "response", draft.id, session=session,
                 label="resident", campaign_id=target.campaign.id,
                 details={"answers": len(values)})
    return draft


def completed_response(target_campaign: Campaign, instance_id: str, *, session: Session,
                       household: Household | None = None) -> Response | None:
    """The completed response of a form instance (for the receipt page)."""
    response = find_by_instance(target_campaign, instance_id, session=session)
    if response is None or response.status != ResponseStatus.COMPLETE:
        return None
    if household is not None and response.household_id != household.id:
        return None
    return response


def completed_response_of_household(household: Household, *,
                                    session: Session) -> Response | None:
    return session.exec(select(Response).where(
        Response.household_id == household.id,
        Response.status == ResponseStatus.COMPLETE,
    ).order_by(Response.id)).first()
