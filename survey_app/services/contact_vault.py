"""The contact vault: names, addresses and phones of roster households, sealed.

Matching never needs the clear values (keyed hashes in :mod:`personal_data` do that), but a
field worker must find and call the household. So roster import also seals each household's
contact details with AES-256-GCM (``cryptography``), under a key derived with HKDF-SHA256
from ``SURVEY_CONTACT_KEY`` (separate from the HMAC key, so either can be rotated alone).

Stored
    ``household.contact_sealed``: a version byte, a random 96-bit nonce and the ciphertext
    with its tag. The associated data is the campaign id and household code, so a sealed
    blob copied onto another household's row fails to open (it cannot be swapped).
    ``household.contact_key_id`` names the key (a keyed digest of it, never the key).

Who sees the clear text (:func:`refusal`)
    A community worker, for a sampled household of their own community, while the campaign
    is open; every reveal is an audit event (who, which household, why: :data:`PURPOSES`).
    Back-checkers are the second group (:func:`_backcheck_refusal`): an evaluator, for a
    household drawn for the campaign's back-check (services.backchecks), open or closed
    campaign alike (back-checks often follow fieldwork) until the contacts are purged;
    purpose ``backcheck``, audited the same way. Administrators see the masked forms only.
    Exports, the API and logs never read these columns.

After fieldwork
    :func:`purge` deletes the sealed contacts of a closed campaign (refused while it is in
    the field or still a draft); keyed hashes and masks stay, so matching still works.
    :func:`rotate_key` re-seals every blob under a new key; afterwards the old key (and so
    any sealed copy in an old backup) can be destroyed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, col, func, select

from survey_app.models import (
    BackcheckCase,
    BackcheckDraw,
    Campaign,
    CampaignStatus,
    Household,
    Role,
    User,
    utcnow,
)
from survey_app.services import audit

_VERSION = b"\x01"
_NONCE_BYTES = 12
_HKDF_INFO = b"survey-app contact vault v1"

#: Why a worker reveals contact details (kept in the audit event).
PURPOSES = ("visit", "phone_call", "appointment", "visit_list")
#: Back-checks: re-contacting a household drawn for one (services.backchecks).
BACKCHECK_PURPOSE = "backcheck"


@dataclass(frozen=True)
class Contact:
    """A household's clear contact details; never logged, exported or sent by the API."""

    name: str = ""
    address: str = ""
    phone: str = ""

    def __repr__(self) -> str:  # a stray repr in a log or traceback shows nothing personal
        return "Contact(<sealed>)"


class VaultError(ValueError):
    """A sealed contact could not be opened (wrong key, tampered or swapped blob)."""


class RevealRefused(PermissionError):
    """``reason``: ``role``, ``community``, ``not_sampled``, ``not_in_field``, ``purpose``,
    ``not_drawn`` (a back-check reveal of a household outside the back-check draw), ``done``
    (its back-check call reached the household already)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PurgeRefused(ValueError):
    """The campaign is still in the field (open) or not started (draft)."""


@lru_cache(maxsize=8)
def _derived(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_HKDF_INFO).derive(secret.encode())


def key_id(secret: str) -> str:
    """A short public name of the key (a keyed digest: it reveals nothing of the key)."""
    return hmac.new(_derived(secret), b"key-id", hashlib.sha256).hexdigest()[:16]


def _associated_data(campaign_id: int, household_code: str) -> bytes:
    return f"household-contact\x00{campaign_id}\x00{household_code}".encode()


def seal(contact: Contact, *, campaign_id: int, household_code: str, secret: str) -> bytes:
    """Encrypt ``contact`` for the household (``campaign_id``, ``household_code``)."""
    payload = json.dumps({"n": contact.name, "a": contact.address, "p": contact.phone},
                         ensure_ascii=False).encode()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_derived(secret)).encrypt(
        nonce, payload, _associated_data(campaign_id, household_code))
    return _VERSION + nonce + sealed


def open_sealed(blob: bytes, *, campaign_id: int, household_code: str,
                secret: str) -> Contact:
    """Decrypt a blob of :func:`seal`; :class:`VaultError` if it is not this household's
    under this key."""
    if not blob or blob[:1] != _VERSION:
        raise VaultError("not a sealed contact of this vault version")
    nonce, sealed = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
    try:
        payload = AESGCM(_derived(secret)).decrypt(
            nonce, sealed, _associated_data(campaign_id, household_code))
    except InvalidTag:
        raise VaultError("the sealed contact does not open with this key for this household "
                         "(wrong key, or a blob moved from another row)") from None
    values = json.loads(payload)
    return Contact(name=values["n"], address=values["a"], phone=values["p"])


def seal_household(household: Household, contact: Contact, *, secret: str) -> None:
    """Set the household's sealed contact (its campaign and code must be set)."""
    household.contact_sealed = seal(contact, campaign_id=household.campaign_id,
                                    household_code=household.household_code, secret=secret)
    household.contact_key_id = key_id(secret)


def contact_state(household: Household) -> str:
    """``sealed``, ``purged`` or ``none`` (imported before the vault existed)."""
    if household.contact_sealed is not None:
        return "sealed"
    return "purged" if household.contact_purged_at is not None else "none"


# --- who may see it -------------------------------------------------------------------------

def refusal(user: User, household: Household, campaign: Campaign, purpose: str, *,
            session: Session) -> str | None:
    """Why ``user`` may not see the household's clear contact for ``purpose``; None: may."""
    if purpose == BACKCHECK_PURPOSE:
        return _backcheck_refusal(user, household, campaign, session=session)
    if purpose not in PURPOSES:
        return "purpose"
    if user.role != Role.WORKER:
        return "role"
    if user.community_id is None or user.community_id != household.community_id:
        return "community"
    if not household.sampled:
        return "not_sampled"
    if campaign.status != CampaignStatus.OPEN:
        return "not_in_field"
    return None


def _backcheck_refusal(user: User, household: Household, campaign: Campaign, *,
                       session: Session) -> str | None:
    """A back-checker (an evaluator: independent of the workers whose forms are checked)
    sees the households drawn for the campaign's back-check until the household has been
    reached (``done``), and nothing else."""
    if user.role != Role.EVALUATOR:
        return "role"
    case = session.exec(select(BackcheckCase).join(
        BackcheckDraw, col(BackcheckDraw.id) == BackcheckCase.draw_id).where(
        BackcheckDraw.campaign_id == campaign.id,
        BackcheckCase.household_id == household.id)).first()
    if case is None or household.campaign_id != campaign.id:
        return "not_drawn"
    return "done" if case.outcome == "reached" else None


def reveal(households: Iterable[Household], *, user: User, campaign: Campaign, purpose: str,
           secret: str, session: Session) -> dict[int, Contact | None]:
    """The clear contacts of ``households`` (None where none is sealed), each audited.

    Raises :class:`RevealRefused` before anything is opened when any household is refused.
    A household without a sealed contact writes no event: nothing was shown.
    """
    households = list(households)
    for household in households:
        reason = refusal(user, household, campaign, purpose, session=session)
        if reason is not None:
            raise RevealRefused(reason)
    shown: dict[int, Contact | None] = {}
    for household in households:
        if household.contact_sealed is None:
            shown[household.id] = None
            continue
        shown[household.id] = open_sealed(
            household.contact_sealed, campaign_id=household.campaign_id,
            household_code=household.household_code, secret=secret)
        audit.record("contact.reveal", "household", household.id, session=session,
                     actor=user, campaign_id=campaign.id, reason=purpose,
                     details={"purpose": purpose, "fields": ["name", "address", "phone"]})
    return shown


# --- after fieldwork ------------------------------------------------------------------------

def purge(campaign: Campaign, *, session: Session, actor: User | None = None) -> int:
    """Delete the campaign's sealed contacts; the number of households purged.

    Refused (:class:`PurgeRefused`) unless the campaign is closed. Keyed hashes and masked
    forms stay: matching and the masked pages still work.
    """
    if campaign.status != CampaignStatus.CLOSED:
        raise PurgeRefused(f"campaign {campaign.slug} is {campaign.status}: contact data is "
                           "purged only once fieldwork is over (close the campaign first)")
    households = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, col(Household.contact_sealed).is_not(None))).all()
    now = utcnow()
    for household in households:
        household.contact_sealed = None
        household.contact_key_id = None
        household.contact_purged_at = now
        session.add(household)
    purged = len(households)
    audit.record("contact.purge", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"households": purged})
    return purged


def rotate_key(*, old_secret: str, new_secret: str, session: Session) -> int:
    """Re-seal every contact sealed under ``old_secret`` with ``new_secret``; the count.

    Blobs already under the new key are left alone (a second run does nothing). A blob under
    a third key, or one that does not open, raises :class:`VaultError` and, the caller's
    transaction being rolled back, nothing is changed.
    """
    old_id, new_id = key_id(old_secret), key_id(new_secret)
    if old_id == new_id:
        raise VaultError("the old and the new key are the same")
    rows = session.exec(select(Household).where(
        col(Household.contact_sealed).is_not(None),
        col(Household.contact_key_id) != new_id)).all()
    strangers = {h.contact_key_id for h in rows} - {old_id}
    if strangers:
        raise VaultError(f"{sum(h.contact_key_id in strangers for h in rows)} sealed contacts "
                         "are under neither key; nothing was re-sealed")
    for household in rows:
        contact = open_sealed(household.contact_sealed, campaign_id=household.campaign_id,
                              household_code=household.household_code, secret=old_secret)
        seal_household(household, contact, secret=new_secret)
        session.add(household)
    session.flush()
    audit.record("contact.rotate_key", "household", "", session=session, label="cli",
                 details={"households": len(rows), "old_key_id": old_id, "new_key_id": new_id})
    return len(rows)


@dataclass(frozen=True)
class VaultSummary:
    """How many of a campaign's households have a sealed contact, and whether it was purged."""

    sealed: int
    purged: int
    households: int


def vault_summary(campaign: Campaign, *, session: Session) -> VaultSummary:
    sealed, purged, households = session.exec(select(
        func.count(col(Household.contact_sealed)),
        func.count(col(Household.contact_purged_at)), func.count())
        .where(Household.campaign_id == campaign.id)).one()
    return VaultSummary(sealed=sealed, purged=purged, households=households)
