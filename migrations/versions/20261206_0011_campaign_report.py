"""campaignreport: the evaluator's text of the indicator table and the firm's report template.

One row per campaign, created on the first edit (services/report_settings.py): the column
偏差原因分析及改进措施 of the bureau's indicator table, its 一级指标, and an uploaded Word
template of the report section (NULL: the shipped one). Edits are audit events.

Revision ID: 5b8d2e6f0a11
Revises: 5b1e0c7a9d10
Create Date: 2026-12-06 04:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5b8d2e6f0a11"
down_revision: str | None = "5b1e0c7a9d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaignreport",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("deviation_note", sa.Text(), server_default="", nullable=False),
        sa.Column("first_level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("template", sa.LargeBinary(), nullable=True),
        sa.Column("template_sha256", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaignreport_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaignreport")),
    )


def downgrade() -> None:
    op.drop_table("campaignreport")
