"""interviewparadata: how each interview taken on a worker's phone was taken (issue 22).

Start and end on the phone, the seconds per question and the optional position, one row
per response of mode ``interview``, apart from the answers (services/field_interviews.py).
The mode itself is a new value of the existing ``response.mode`` string column.

Revision ID: 5d2a8c41f7e3
Revises: 5b1e0c7d9a24
Create Date: 2026-12-06 10:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5d2a8c41f7e3"
down_revision: str | None = "5b1e0c7d9a24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interviewparadata",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("question_seconds", sa.JSON(), nullable=False),
        sa.Column("position_status", sqlmodel.sql.sqltypes.AutoString(length=16),
                  nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("synced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_interviewparadata_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"],
                                name=op.f("fk_interviewparadata_response_id_response")),
        sa.ForeignKeyConstraint(["worker_id"], ["app_user.id"],
                                name=op.f("fk_interviewparadata_worker_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviewparadata")),
        sa.UniqueConstraint("response_id", name=op.f("uq_interviewparadata_response_id")),
    )
    op.create_index(op.f("ix_interviewparadata_campaign_id"), "interviewparadata",
                    ["campaign_id"], unique=False)
    op.create_index(op.f("ix_interviewparadata_worker_id"), "interviewparadata",
                    ["worker_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_interviewparadata_worker_id"), table_name="interviewparadata")
    op.drop_index(op.f("ix_interviewparadata_campaign_id"), table_name="interviewparadata")
    op.drop_table("interviewparadata")
