"""The roster: households, their sampling state and their access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import Disposition, utcnow


class Household(SQLModel, table=True):
    """A roster row. Personal data is kept masked plus a keyed HMAC for matching; name,
    address and phone also sealed in the contact vault (services.contact_vault) for the
    field worker, until the campaign's contacts are purged."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "household_code"),
        UniqueConstraint("campaign_id", "id_number_hmac"),
        UniqueConstraint("campaign_id", "pseudonym"),
        # The scores count the roster households of every cell (group x project x
        # community) in one GROUP BY that reads only this index (migration 0004).
        Index("ix_household_cells", "campaign_id", "household_group", "project_id",
              "community_id"),
        # The same for the sampled households (the non-response section's response
        # rates): without `sampled` in an index SQLite read every household row (migration
        # 0024; 78 -> 14 ms at 100,000 households).
        Index("ix_household_sampled_cells", "campaign_id", "sampled", "household_group",
              "project_id", "community_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    household_code: str = Field(max_length=32)
    household_group: str = Field(max_length=32, index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    head_name_masked: str = Field(default="", max_length=50)
    id_number_masked: str = Field(default="", max_length=32)
    id_number_hmac: str | None = Field(default=None, max_length=64)
    # Keyed hash of the ID number's last six characters: with phone_hmac, how a resident
    # without a letter identifies the household on the open link (services.open_identity).
    id_tail_hmac: str | None = Field(default=None, max_length=64)
    phone_masked: str = Field(default="", max_length=20)
    phone_hmac: str | None = Field(default=None, max_length=64, index=True)
    address_masked: str = Field(default="", max_length=200)
    # AES-256-GCM of {name, address, phone} bound to (campaign, household code); NULL:
    # imported before the vault (migration 0012) or purged (contact_purged_at set).
    contact_sealed: bytes | None = Field(default=None,
                                         sa_column=Column(LargeBinary, nullable=True))
    # Which key sealed it (services.contact_vault.key_id), so rotation knows what to redo.
    contact_key_id: str | None = Field(default=None, max_length=16)
    contact_purged_at: datetime | None = None
    # Campaign-specific pseudonym used instead of the household code in exports.
    pseudonym: str = Field(max_length=16)
    sampled: bool = Field(default=False, index=True)
    sample_rank: int | None = None
    disposition: str = Field(default=Disposition.PENDING, max_length=16)
    is_demo: bool = False
    # The household replied TD (退订) to a text message: no invitation or reminder is sent
    # to it again (services.sms_callbacks).
    sms_opted_out_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class HouseholdPhone(SQLModel, table=True):
    """A further phone number of a household, when its roster cell holds several (the first
    is ``Household.phone_hmac``): kept the same way, keyed hash and mask only
    (services.phone_numbers, services.open_identity)."""

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    phone_hmac: str = Field(max_length=64, index=True)
    phone_masked: str = Field(default="", max_length=20)


class AccessToken(SQLModel, table=True):
    """A survey link for one household: looked up by the SHA-256 of the token; the token
    itself only encrypted, so its letter can be printed again (services.link_copies)."""

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    # Fernet ciphertext of the token under the link key; None for links issued before
    # migration 0012 (their letters are reprinted by reissuing the link).
    token_copy: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    used_at: datetime | None = None
