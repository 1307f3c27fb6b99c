"""Access tokens for sampled households: one live token each.

A token is ``secrets.token_urlsafe(20)`` (160 random bits); it is looked up by its SHA-256,
and kept besides only encrypted (``services.link_copies``: why), so its letter can be
printed again (:func:`live_links`) without changing it. Issuing again revokes the
household's previous token: for every sampled household at once (:func:`issue_tokens`
with ``reissue``) or for one whose letter went astray (:func:`reissue_link`). A household
that has already answered (a complete response through any channel) is never issued a new
link: its old link keeps showing "already answered", and a fresh one must not reopen it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

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
from survey_app.services import audit, link_copies
from survey_app.services.formula_safety import neutralise_row
from survey_app.services.personal_data import new_secret_token, token_hash


@dataclass(frozen=True)
class IssuedToken:
    household: Household
    token: str
    #: When the link was issued (the date printed on its letter).
    issued_at: datetime = field(default_factory=utcnow)


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


def receipt_check_url(base_url: str) -> str:
    """Where a resident types a receipt code to learn that the answers arrived."""
    return base_url.rstrip("/") + "/receipt"


def issue_token(household: Household, *, session: Session) -> str:
    """Revoke the household's live tokens and return a new one (shown only now)."""
    now = utcnow()
    for old in session.exec(select(AccessToken).where(
            AccessToken.household_id == household.id, AccessToken.revoked_at.is_(None))).all():
        old.revoked_at = now
        session.add(old)
    token = new_secret_token()
    session.add(AccessToken(household_id=household.id, token_hash=token_hash(token),
                            token_copy=link_copies.seal(token)))
    session.flush()
    return token


def reissue_link(household: Household, *, session: Session,
                 actor: User | None = None) -> IssuedToken:
    """A new link for one sampled household whose letter was lost or spoiled; its old link
    stops working, every other household's stays. Refused for a household that answered."""
    if not household.sampled:
        raise TokenError(f"household {household.household_code} is not in the sample")
    if household.id in _answered(select(Response.household_id).where(
            Response.household_id == household.id), session=session):
        raise TokenError(f"household {household.household_code} has already answered: "
                         "its link is not reissued")
    revoked = len(session.exec(select(AccessToken.id).where(
        AccessToken.household_id == household.id, AccessToken.revoked_at.is_(None))).all())
    issued = IssuedToken(household, issue_token(household, session=session))
    audit.record("token.reissue", "household", household.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=household.campaign_id,
                 details={"household_code": household.household_code, "revoked": revoked})
    return issued


@dataclass(frozen=True)
class LiveLinks:
    """The live links of a campaign (or part of it) that can be printed, and the households
    whose live link has no readable copy (issued before copies were kept, or under another
    link key): their letters are printed by reissuing the link."""

    printable: list[IssuedToken]
    without_copy: list[Household]


def live_links(campaign: Campaign, *, session: Session, community_id: int | None = None,
               household_id: int | None = None, since: datetime | None = None) -> LiveLinks:
    """The live links of ``campaign``'s households, by household code; optionally of one
    community, one household, or issued at or after ``since``."""
    query = (select(AccessToken, Household).join(Household)
             .where(Household.campaign_id == campaign.id, AccessToken.revoked_at.is_(None))
             .order_by(Household.household_code))
    if community_id is not None:
        query = query.where(Household.community_id == community_id)
    if household_id is not None:
        query = query.where(Household.id == household_id)
    if since is not None:
        query = query.where(AccessToken.created_at >= since)
    box = link_copies.current_fernet()
    printable, without_copy = [], []
    for record, household in session.exec(query).all():
        token = link_copies.unseal(record.token_copy, box=box)
        if token is None:
            without_copy.append(household)
        else:
            printable.append(IssuedToken(household, token, record.created_at))
    return LiveLinks(printable, without_copy)


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
    return _answered(select(Response.household_id).join(
        Household, Household.id == Response.household_id).where(
        Household.campaign_id == campaign.id, Household.sampled), session=session)


def _answered(query, *, session: Session) -> set[int]:
    return set(session.exec(query.where(Response.status == ResponseStatus.COMPLETE)).all())


#: States of a sampled household's link on the links page (admin/links.html).
ANSWERED, PRINTABLE, NO_COPY, NO_LINK = "answered", "printable", "no_copy", "no_link"


@dataclass(frozen=True)
class LinkRow:
    household: Household
    community: Community
    state: str


def link_rows(campaign: Campaign, *, session: Session) -> list[LinkRow]:
    """Every sampled household of ``campaign`` (by community and code) with its link's
    state: answered, printable (a live link with a copy), no_copy (a live link issued
    before copies were kept: reissue to print) or no_link."""
    answered = answered_household_ids(campaign, session=session)
    copies = dict(session.exec(select(AccessToken.household_id, AccessToken.token_copy)
                               .join(Household).where(Household.campaign_id == campaign.id,
                                                      AccessToken.revoked_at.is_(None))).all())
    rows = []
    for household, community in session.exec(
            select(Household, Community).join(Community).where(
                Household.campaign_id == campaign.id, Household.sampled)
            .order_by(Community.code, Household.household_code)).all():
        if household.id in answered:
            state = ANSWERED
        elif household.id not in copies:
            state = NO_LINK
        else:
            state = PRINTABLE if copies[household.id] else NO_COPY
        rows.append(LinkRow(household, community, state))
    return rows


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
        # Community names come from the roster file as typed: never a live formula.
        writer.writerow(neutralise_row((h.household_code, h.household_group,
                                        names.get(h.community_id, ""),
                                        survey_url(base_url, item.token))))
    return buffer.getvalue()
