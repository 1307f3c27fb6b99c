"""visit: the visit log, each visit or call attempt to a household.

Date and time of the attempt, the worker, the channel (visit/phone), the outcome (a
disposition code), the worker's note and the next appointment (services/visits.py).

Revision ID: 9e4b7d1c3a62
Revises: 7c3f9a2e4b15
Create Date: 2026-12-06 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "9e4b7d1c3a62"
down_revision: str | None = "7c3f9a2e4b15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("next_appointment", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_visit_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_visit_household_id_household")),
        sa.ForeignKeyConstraint(["worker_id"], ["app_user.id"],
                                name=op.f("fk_visit_worker_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    op.create_index("ix_visit_campaign_worker_time", "visit",
                    ["campaign_id", "worker_id", "attempted_at"], unique=False)
    op.create_index(op.f("ix_visit_household_id"), "visit", ["household_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_household_id"), table_name="visit")
    op.drop_index("ix_visit_campaign_worker_time", table_name="visit")
    op.drop_table("visit")
