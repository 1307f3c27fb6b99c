"""smswave, outboxmessage, household.sms_opted_out_at: SMS invitations and reminders.

A wave (invitation 0, reminders 1, 2, ...) per campaign; one outbox message per household
and wave (unique), written in the transaction that creates the wave and delivered by
``survey-app outbox send`` (services/sms_sender.py); the households that replied TD.

Revision ID: 5d2a8f61c0b7
Revises: 5b1e0c7d9a18
Create Date: 2026-12-06 10:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5d2a8f61c0b7"
down_revision: str | None = "5b1e0c7d9a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def _string(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "smswave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", _string(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_smswave_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_smswave_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smswave")),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_smswave_campaign_id_number")),
    )
    op.create_table(
        "outboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("client_ref", _string(64), nullable=False),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", _string(32), nullable=True),
        sa.Column("claimed_at", _TIME(), nullable=True),
        sa.Column("provider_message_id", _string(64), nullable=True),
        sa.Column("error", _string(64), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("sent_at", _TIME(), nullable=True),
        sa.Column("delivered_at", _TIME(), nullable=True),
        sa.Column("updated_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_outboxmessage_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_outboxmessage_household_id_household")),
        sa.ForeignKeyConstraint(["wave_id"], ["smswave.id"],
                                name=op.f("fk_outboxmessage_wave_id_smswave")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outboxmessage")),
        sa.UniqueConstraint("campaign_id", "household_id", "wave_number",
                            name=op.f("uq_outboxmessage_campaign_id_household_id_wave_number")),
        sa.UniqueConstraint("client_ref", name=op.f("uq_outboxmessage_client_ref")),
    )
    op.create_index("ix_outboxmessage_status_id", "outboxmessage", ["status", "id"],
                    unique=False)
    op.create_index(op.f("ix_outboxmessage_household_id"), "outboxmessage", ["household_id"],
                    unique=False)
    op.create_index(op.f("ix_outboxmessage_wave_id"), "outboxmessage", ["wave_id"],
                    unique=False)
    op.create_index(op.f("ix_outboxmessage_provider_message_id"), "outboxmessage",
                    ["provider_message_id"], unique=False)
    with op.batch_alter_table("household") as batch:
        batch.add_column(sa.Column("sms_opted_out_at", _TIME(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household") as batch:
        batch.drop_column("sms_opted_out_at")
    op.drop_index(op.f("ix_outboxmessage_provider_message_id"), table_name="outboxmessage")
    op.drop_index(op.f("ix_outboxmessage_wave_id"), table_name="outboxmessage")
    op.drop_index(op.f("ix_outboxmessage_household_id"), table_name="outboxmessage")
    op.drop_index("ix_outboxmessage_status_id", table_name="outboxmessage")
    op.drop_table("outboxmessage")
    op.drop_table("smswave")
