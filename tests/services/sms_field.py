"""A campaign in the field for the SMS outbox tests: ``n`` sampled households with sealed
contacts and live links, some answered, opted out, without a mobile or without a phone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from survey_app.models import CampaignStatus, Household, Response, utcnow
from survey_app.services import contact_vault, questionnaire_versions, tokens
from survey_app.services.answer_copies import answer_copies
from survey_app.services.personal_data import keyed_hash, mask_phone
from tests.factories import make_campaign, make_community
from tests.fixtures.settings import TEST_SETTINGS


def phone_of(i: int) -> str:
    return f"139{i:08d}"


@dataclass
class Field:
    campaign_id: int
    slug: str
    eligible: dict[int, str] = field(default_factory=dict)  # household id -> phone
    answered: dict[int, str] = field(default_factory=dict)
    opted_out: dict[int, str] = field(default_factory=dict)
    landline: set[int] = field(default_factory=set)
    no_phone: set[int] = field(default_factory=set)

    @property
    def phones(self) -> list[str]:
        return [*self.eligible.values(), *self.answered.values(), *self.opted_out.values()]


def _kind(i: int) -> str:
    return {0: "answered", 1: "opted_out", 2: "no_phone", 3: "landline"}.get(i % 10, "eligible")


def build_field(session, n: int, *, answered_at: datetime | None = None) -> Field:
    """``n`` sampled households of an open campaign; every tenth answered, opted out,
    without phone, with a landline only (i % 10 = 0, 1, 2, 3); the rest eligible."""
    campaign = make_campaign(session, status=CampaignStatus.OPEN, title="鹤山区满意度调查",
                             commissioner="鹤山区住房和城乡建设局")
    community = make_community(session)
    questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
    version = questionnaire_versions.version_for_group(campaign, "relocated", session=session)
    copies = answer_copies({}, questionnaire_versions.questionnaire_of(version))
    result = Field(campaign.id, campaign.slug)
    key, pii = TEST_SETTINGS["CONTACT_KEY"], TEST_SETTINGS["PII_KEY"]
    for i in range(n):
        kind = _kind(i)
        phone = {"no_phone": "", "landline": "0750-3212345"}.get(kind, phone_of(i))
        digits = phone.replace("-", "")
        household = Household(
            campaign_id=campaign.id, household_code=f"H{i:05d}", household_group="relocated",
            community_id=community.id, pseudonym=f"P{i:05d}", sampled=True,
            phone_masked=mask_phone(digits) if digits else "",
            phone_hmac=keyed_hash(digits, pii) if digits else None,
            sms_opted_out_at=utcnow() if kind == "opted_out" else None)
        session.add(household)
        session.flush()
        contact_vault.seal_household(household, contact_vault.Contact(
            name=f"住户{i}", address=f"龙岭路{i}号", phone=digits), secret=key)
        tokens.issue_token(household, session=session)
        if kind == "answered":
            session.add(Response(campaign_id=campaign.id, household_id=household.id,
                                 household_group="relocated", questionnaire_version_id=version.id,
                                 mode="web_token", instance_id=f"i-{i}",
                                 submitted_at=answered_at or utcnow(), **copies))
        target = {"eligible": result.eligible, "answered": result.answered,
                  "opted_out": result.opted_out}.get(kind)
        if target is not None:
            target[household.id] = phone
        elif kind == "landline":
            result.landline.add(household.id)
        else:
            result.no_phone.add(household.id)
    session.flush()
    return result
