"""Access tokens for sampled households: one live token each, stored only as a hash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from survey_app.models import AccessToken, Campaign, Household, User, utcnow
from survey_app.services import audit
from survey_app.services.personal_data import new_secret_token, token_hash


@dataclass(frozen=True)
class IssuedToken:
    household: Household
    token: str


def survey_path(token: str) -> str:
    return f"/s/{token}"


def issue_token(household: Household, *, session: Session) -> str:
    """Revoke the household's live tokens and return a new one (shown only now)."""
    now = utcnow()
    for old in session.exec(select(AccessToken).where(
            AccessToken.household_id == household.id, AccessToken.revoked_at.is_(None))).all():
        old.revoked_at = now
        session.add(old)
    token = new_secret_token()
    session.add(AccessToken(household_id=household.id, token_hash=token_hash(token)))
    session.flush()
    return token


def issue_tokens(campaign: Campaign, *, session: Session, actor: User | None = None,
                 only_missing: bool = False) -> list[IssuedToken]:
    """Issue tokens to every sampled household (or only those without a live token)."""
    households = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled)
        .order_by(Household.household_group, Household.household_code)).all()
    if only_missing:
        live = set(session.exec(select(AccessToken.household_id).join(Household).where(
            Household.campaign_id == campaign.id, AccessToken.revoked_at.is_(None))).all())
        households = [h for h in households if h.id not in live]
    issued = [IssuedToken(h, issue_token(h, session=session)) for h in households]
    audit.record("tokens.issue", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"tokens": len(issued)})
    return issued


def household_for_token(token: str, *, session: Session) -> tuple[Household, AccessToken] | None:
    """The household of a live (not revoked) token, or None."""
    record = session.exec(select(AccessToken).where(
        AccessToken.token_hash == token_hash(token))).first()
    if record is None or record.revoked_at is not None:
        return None
    return session.get(Household, record.household_id), record
