"""backcheckdraw, backcheckcase and the campaign's back-check settings (issue 20 item 3).

An evaluator draws a seeded share of each worker's completed paper forms
(``backcheckdraw``, one per campaign) and records each call (``backcheckcase``: outcome,
answers given again, whether they disagree with the form). ``campaign.backcheck_items``
(NULL: the default items) and ``backcheck_threshold`` (the discrepancy rate above which a
worker is flagged, default 0.10) are the campaign's settings (services/backchecks.py).

Revision ID: b7c1e4d2a918
Revises: 5d2a8f61c0b7
Create Date: 2026-12-06 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b7c1e4d2a918"
down_revision: str | None = "5d2a8f61c0b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("backcheck_items", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("backcheck_threshold", sa.Float(), server_default="0.1",
                                   nullable=False))
    op.create_table(
        "backcheckdraw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("min_per_worker", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("codes_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("drawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_backcheckdraw_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["drawn_by_id"], ["app_user.id"],
                                name=op.f("fk_backcheckdraw_drawn_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backcheckdraw")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_backcheckdraw_campaign_id")),
    )
    op.create_table(
        "backcheckcase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("paper_form_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("discrepant", sa.Boolean(), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["draw_id"], ["backcheckdraw.id"],
                                name=op.f("fk_backcheckcase_draw_id_backcheckdraw")),
        sa.ForeignKeyConstraint(["paper_form_id"], ["paperform.id"],
                                name=op.f("fk_backcheckcase_paper_form_id_paperform")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_backcheckcase_household_id_household")),
        sa.ForeignKeyConstraint(["worker_id"], ["app_user.id"],
                                name=op.f("fk_backcheckcase_worker_id_app_user")),
        sa.ForeignKeyConstraint(["checked_by_id"], ["app_user.id"],
                                name=op.f("fk_backcheckcase_checked_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backcheckcase")),
        sa.UniqueConstraint("draw_id", "household_id",
                            name=op.f("uq_backcheckcase_draw_id_household_id")),
    )
    op.create_index(op.f("ix_backcheckcase_draw_id"), "backcheckcase", ["draw_id"],
                    unique=False)
    op.create_index(op.f("ix_backcheckcase_household_id"), "backcheckcase", ["household_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_backcheckcase_household_id"), table_name="backcheckcase")
    op.drop_index(op.f("ix_backcheckcase_draw_id"), table_name="backcheckcase")
    op.drop_table("backcheckcase")
    op.drop_table("backcheckdraw")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("backcheck_threshold")
        batch.drop_column("backcheck_items")
