"""Access tokens for sampled households: one live token each, stored only as a hash.

A token is ``secrets.token_urlsafe(20)`` (160 random bits); only its SHA-256 is stored,
so the moment of issuing is the only time it can be shown (CSV, printed letters).
Issuing again revokes the household's previous token. A household that has already
answered (a complete response through any channel) is never issued a new link: its old
link keeps showing "already answered", and a fresh one must not reopen it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from survey_app.models import (
    AccessToken,
    Campaign,
    Community,
    Household,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.personal_data import new_secret_token, token_hash


@dataclass(frozen=True)
class IssuedToken:
    household: Household
    token: str


class TokenError(ValueError):
    """Tokens could not be issued; the message says why."""


def survey_path(token: str) -> str:
    return f"/s/{token}"


def survey_url(base_url: str, token: str) -> str:
    """The full link printed on a household's letter: PUBLIC_BASE_URL + /s/<token>."""
    return base_url.rstrip("/") + survey_path(token)


def open_path(slug: str) -> str:
    """The campaign-wide open link for residents outside the sample (responses web_open)."""
    return f"/c/{slug}"


def open_url(base_url: str, slug: str) -> str:
    return base_url.rstrip("/") + open_path(slug)


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
                 only_missing: bool = False, reissue: bool = False) -> list[IssuedToken]:
    """Issue tokens to every sampled household (or only those without a live token).

    When households already hold live tokens, the caller must choose: ``only_missing``
    (leave them) or ``reissue`` (revoke them, so letters already printed stop working).
    Households that already answered are left out either way
    (:func:`answered_household_ids`).
    """
    if campaign.sample_drawn_at is None:
        raise TokenError(_("no sample has been drawn yet; draw the sample first"))
    live = live_token_count(campaign, session=session)
    if live and not (only_missing or reissue):
        raise TokenError(_("%(n)s households already hold live links: issue only the "
                           "missing ones, or confirm revoking every earlier link", n=live))
    households = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled)
        .order_by(Household.household_group, Household.household_code)).all()
    if only_missing:
        live = set(session.exec(select(AccessToken.household_id).join(Household).where(
            Household.campaign_id == campaign.id, AccessToken.revoked_at.is_(None))).all())
        households = [h for h in households if h.id not in live]
    answered = answered_household_ids(campaign, session=session)
    issued = [IssuedToken(h, issue_token(h, session=session)) for h in households
              if h.id not in answered]
    audit.record("tokens.issue", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"tokens": len(issued), "answered_skipped": len(answered)})
    return issued


def answered_household_ids(campaign: Campaign, *, session: Session) -> set[int]:
    """Sampled households of ``campaign`` with a complete response (any channel, counted or
    excluded): links are never issued to them again."""
    return set(session.exec(select(Response.household_id).join(
        Household, Household.id == Response.household_id).where(
        Household.campaign_id == campaign.id, Household.sampled,
        Response.status == ResponseStatus.COMPLETE)).all())


def live_token_count(campaign: Campaign, *, session: Session) -> int:
    return len(session.exec(select(AccessToken.id).join(Household).where(
        Household.campaign_id == campaign.id, AccessToken.revoked_at.is_(None))).all())


def household_for_token(token: str, *, session: Session) -> tuple[Household, AccessToken] | None:
    """The household of a live (not revoked) token, or None."""
    record = session.exec(select(AccessToken).where(
        AccessToken.token_hash == token_hash(token))).first()
    if record is None or record.revoked_at is not None:
        return None
    return session.get(Household, record.household_id), record


CSV_HEADER = ("household_code", "group", "community", "survey_url")


def tokens_csv(issued: list[IssuedToken], *, session: Session, base_url: str) -> str:
    """The issued links as CSV text (household code, group, community, survey URL).

    Written with a BOM by callers that save it, so that Excel/WPS show the Chinese names.
    """
    names = {c.id: c.name for c in session.exec(select(Community).where(
        Community.id.in_({item.household.community_id for item in issued}))).all()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for item in issued:
        h = item.household
        writer.writerow((h.household_code, h.household_group, names.get(h.community_id, ""),
                         survey_url(base_url, item.token)))
    return buffer.getvalue()
