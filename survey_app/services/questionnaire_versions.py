"""Storing questionnaire definitions as immutable versions and attaching them to campaigns."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, select

from questionnaires import Questionnaire, load_builtin
from survey_app.models import (
    Campaign,
    CampaignQuestionnaire,
    HouseholdGroup,
    QuestionnaireVersion,
    Response,
    User,
)
from survey_app.services import audit

# The built-in questionnaire each household group answers unless told otherwise.
BUILTIN_FOR_GROUP = {
    HouseholdGroup.RELOCATED: "relocated",
    HouseholdGroup.RENTAL_SUBSIDY: "rental_subsidy",
}


class VersionInUseError(ValueError):
    """A questionnaire version with responses cannot be changed or detached."""


def register_questionnaire(
    questionnaire: Questionnaire, *, session: Session, actor: User | None = None
) -> QuestionnaireVersion:
    """Return the version holding exactly this definition, creating a new one if it changed."""
    digest = questionnaire.content_hash()
    existing = session.exec(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.name == questionnaire.id,
            QuestionnaireVersion.content_hash == digest,
        )
    ).first()
    if existing is not None:
        return existing
    latest = session.exec(
        select(func.max(QuestionnaireVersion.version)).where(
            QuestionnaireVersion.name == questionnaire.id)
    ).one()
    version = QuestionnaireVersion(
        name=questionnaire.id, version=(latest or 0) + 1, content_hash=digest,
        definition=questionnaire.to_dict(),
    )
    session.add(version)
    session.flush()
    audit.record("questionnaire.register", "questionnaire_version", version.id, session=session,
                 actor=actor, label=None if actor else "system",
                 details={"name": version.name, "version": version.version, "hash": digest})
    return version


@lru_cache(maxsize=64)
def _definition(content_hash: str, definition_json: str) -> Questionnaire:
    return Questionnaire.from_dict(json.loads(definition_json), source=f"version {content_hash}")


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The validated definition of a stored version (cached by content hash)."""
    return _definition(version.content_hash, json.dumps(version.definition, sort_keys=True))


def attach_questionnaire(
    campaign: Campaign, group: str, version: QuestionnaireVersion, *, session: Session,
    actor: User | None = None,
) -> CampaignQuestionnaire:
    """Make ``version`` the questionnaire of ``group`` in ``campaign``."""
    link = session.exec(select(CampaignQuestionnaire).where(
        CampaignQuestionnaire.campaign_id == campaign.id,
        CampaignQuestionnaire.household_group == group)).first()
    if link is not None and link.questionnaire_version_id != version.id:
        answered = session.exec(select(func.count()).select_from(Response).where(
            Response.campaign_id == campaign.id, Response.household_group == group)).one()
        if answered:
            raise VersionInUseError(
                f"group {group!r} already has {answered} responses to the current questionnaire")
    if link is None:
        link = CampaignQuestionnaire(campaign_id=campaign.id, household_group=group,
                                     questionnaire_version_id=version.id)
    link.questionnaire_version_id = version.id
    session.add(link)
    session.flush()
    audit.record("campaign.attach_questionnaire", "campaign", campaign.id, session=session,
                 actor=actor, label=None if actor else "system", campaign_id=campaign.id,
                 details={"group": group, "version_id": version.id})
    return link


def attach_builtin_questionnaires(campaign: Campaign, *, session: Session,
                                  actor: User | None = None) -> None:
    for group, name in BUILTIN_FOR_GROUP.items():
        version = register_questionnaire(load_builtin(name), session=session, actor=actor)
        attach_questionnaire(campaign, group, version, session=session, actor=actor)


def version_for_group(campaign: Campaign, group: str, *,
                      session: Session) -> QuestionnaireVersion | None:
    return session.exec(
        select(QuestionnaireVersion).join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        ).where(CampaignQuestionnaire.campaign_id == campaign.id,
                CampaignQuestionnaire.household_group == group)
    ).first()
