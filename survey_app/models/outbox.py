"""The SMS outbox: waves of invitations and reminders, and one message per household and wave.

A wave's messages are written in the transaction that decides to send them
(``services.sms_waves.create_wave``); the sender (``services.sms_sender``, ``survey-app
outbox send``) delivers them later. Rows hold no phone number and no link: the sender reads
both (contact vault, link copy) only when it sends.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # written, not yet claimed by a sender
    SENDING = "sending"  # claimed: a sender is calling (or called) the gateway
    SENT = "sent"  # the gateway accepted it (provider message id kept)
    DELIVERED = "delivered"  # the provider's delivery receipt says it arrived
    FAILED = "failed"  # refused by the gateway, undeliverable, or out of attempts
    CANCELLED = "cancelled"  # the household answered or opted out before it was sent


class SmsWave(SQLModel, table=True):
    """One invitation (``number`` 0) or reminder (1, 2, ...) of a campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    number: int
    kind: str = Field(max_length=16)  # "invitation" or "reminder"
    messages: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class OutboxMessage(SQLModel, table=True):
    """A text message to one household in one wave (at most one: the unique key).

    ``client_ref`` is sent to the gateway as the client's own message id (Alibaba Cloud's
    ``OutId``), so a message whose sender died mid-call can be looked up before it is sent
    again (``services.sms_sender``).
    """

    __table_args__ = (
        UniqueConstraint("campaign_id", "household_id", "wave_number"),
        # The sender claims the oldest pending messages.
        Index("ix_outboxmessage_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    household_id: int = Field(foreign_key="household.id", index=True)
    wave_id: int = Field(foreign_key="smswave.id", index=True)
    wave_number: int
    client_ref: str = Field(max_length=64, unique=True)
    status: str = Field(default=MessageStatus.PENDING, max_length=16)
    attempts: int = 0
    claim: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = None
    provider_message_id: str | None = Field(default=None, max_length=64, index=True)
    error: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class SmsCallbackSignature(SQLModel, table=True):
    """A signed SMS callback post that was accepted (``services.sms_callback_signatures``):
    its signature, kept while its signed timestamp is inside the window, so the same post
    (a captured one replayed) is accepted once. No body, no phone number."""

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    signed_at: datetime = Field(index=True)
