"""Storing questionnaire definitions as immutable versions and attaching them to campaigns."""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext
from sqlalchemy import func, text
from sqlmodel import Session, select

from questionnaires import Questionnaire, builtin_names, load_builtin, load_file
from survey_app.caches import ProcessCache
from survey_app.labels import label
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


class UnknownQuestionnaireError(ValueError):
    """A questionnaire was named that is neither a file, a built-in nor a stored version."""


def register_questionnaire(
    questionnaire: Questionnaire, *, session: Session, actor: User | None = None
) -> QuestionnaireVersion:
    """Return the version holding exactly this definition, creating a new one if it changed."""
    return register_questionnaire_version(questionnaire, session=session, actor=actor)[0]


def register_questionnaire_version(
    questionnaire: Questionnaire, *, session: Session, actor: User | None = None
) -> tuple[QuestionnaireVersion, bool]:
    """Like :func:`register_questionnaire`, also telling whether a new version was created.

    Stored versions are never modified: a changed definition always becomes a new row, so
    responses keep pointing at exactly the questions they answered.
    """
    digest = questionnaire.content_hash()
    existing = session.exec(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.name == questionnaire.id,
            QuestionnaireVersion.content_hash == digest,
        )
    ).first()
    if existing is not None:
        return existing, False
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
    return version, True


# Parsed definitions by content hash (see survey_app.caches for the policy). A stored
# version never changes and its hash is the SHA-256 of its canonical definition, so the hash
# alone names the parsed object; looking it up needs neither the definition column (callers
# on the survey path defer it) nor a JSON dump of it per request.
_PARSED: ProcessCache[Questionnaire] = ProcessCache(max_entries=256)


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The validated definition of a stored version (parsed once per content hash)."""
    parsed = _PARSED.get(version.content_hash)
    if parsed is None:
        parsed = Questionnaire.from_dict(version.definition,
                                         source=f"version {version.content_hash}")
        _PARSED.put(version.content_hash, parsed)
    return parsed


def attach_questionnaire(
    campaign: Campaign, group: str, version: QuestionnaireVersion, *, session: Session,
    actor: User | None = None,
) -> CampaignQuestionnaire:
    """Make ``version`` the questionnaire of ``group`` in ``campaign``.

    Refused (VersionInUseError) when the group already has responses to another version.
    """
    if group not in set(HouseholdGroup):
        raise ValueError(f"unknown household group {group!r}; use "
                         f"{' or '.join(HouseholdGroup)}")
    link = session.exec(select(CampaignQuestionnaire).where(
        CampaignQuestionnaire.campaign_id == campaign.id,
        CampaignQuestionnaire.household_group == group)).first()
    if link is not None and link.questionnaire_version_id != version.id:
        if session.get_bind().dialect.name == "postgresql":
            # The count below must see a response being stored right now, and a response
            # stored after the swap must see the swap (its insert checks the group's
            # version): block new responses until this transaction ends, and wait for those
            # under way. (SQLite serialises writers already.)
            session.exec(text("LOCK TABLE response IN SHARE MODE"))
        answered = session.exec(select(func.count()).select_from(Response).where(
            Response.campaign_id == campaign.id, Response.household_group == group)).one()
        if answered:
            raise VersionInUseError(gettext(
                "group %(group)s already has %(n)s responses to the current questionnaire",
                group=label(group), n=answered))
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


def resolve_version(spec: str, *, session: Session,
                    actor: User | None = None) -> QuestionnaireVersion:
    """The version meant by ``spec``: a YAML file path, a built-in name, ``name`` (latest
    stored version) or ``name@N``. Files and built-ins are registered first (a no-op when
    unchanged). Raises QuestionnaireError for an invalid file, UnknownQuestionnaireError
    when nothing matches."""
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        return register_questionnaire(load_file(spec), session=session, actor=actor)
    name, _, number = spec.partition("@")
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.name == name)
    if number:
        if not number.isdigit():
            raise UnknownQuestionnaireError(f"{spec!r}: the version after '@' must be a number")
        found = session.exec(query.where(QuestionnaireVersion.version == int(number))).first()
    elif name in builtin_names():
        return register_questionnaire(load_builtin(name), session=session, actor=actor)
    else:
        found = session.exec(query.order_by(QuestionnaireVersion.version.desc())).first()
    if found is None:
        raise UnknownQuestionnaireError(
            f"no questionnaire {spec!r}: give a YAML file, a built-in name "
            f"({', '.join(builtin_names())}) or a stored name[@version]")
    return found


def list_versions(*, session: Session) -> list[QuestionnaireVersion]:
    return list(session.exec(select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.name, QuestionnaireVersion.version)).all())


def attached_versions(campaign: Campaign, *, session: Session) -> dict[str, QuestionnaireVersion]:
    """Household group → the version it answers in ``campaign``."""
    rows = session.exec(
        select(CampaignQuestionnaire.household_group, QuestionnaireVersion).join(
            QuestionnaireVersion,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        ).where(CampaignQuestionnaire.campaign_id == campaign.id)).all()
    return dict(rows)
