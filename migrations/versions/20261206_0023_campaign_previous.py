"""campaign.previous_campaign_id: the same area's campaign of an earlier year.

Year over year (issue 18 item 2): a campaign names its predecessor, and the scores document
compares its headline figures with that campaign's.

Revision ID: 5d1c2b7e9a18
Revises: 5d2a8c41f7e3
Create Date: 2026-12-06 10:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1c2b7e9a18"
down_revision: str | None = "5d2a8c41f7e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("previous_campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_campaign_previous_campaign_id_campaign"), "campaign",
                                 ["previous_campaign_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_constraint(op.f("fk_campaign_previous_campaign_id_campaign"),
                              type_="foreignkey")
        batch.drop_column("previous_campaign_id")
