"""Back-check top-ups: replacements for drawn households that cannot be reached.

backcheckcase.topup_round (0: the first draw) and replaced_in_round; backchecktopup, one
row per round of a draw with its counts and the SHA-256 of the codes it drew.

Revision ID: 7b3e91c4d2a0
Revises: 5d1c2b7e9a18
Create Date: 2026-12-06 15:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7b3e91c4d2a0"
down_revision: str | None = "5d1c2b7e9a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("backcheckcase") as batch:
        batch.add_column(sa.Column("topup_round", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("replaced_in_round", sa.Integer(), nullable=True))
    op.create_table(
        "backchecktopup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("replaced", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("codes_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("drawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["backcheckdraw.id"],
                                name=op.f("fk_backchecktopup_draw_id_backcheckdraw")),
        sa.ForeignKeyConstraint(["drawn_by_id"], ["app_user.id"],
                                name=op.f("fk_backchecktopup_drawn_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backchecktopup")),
        sa.UniqueConstraint("draw_id", "round_number",
                            name=op.f("uq_backchecktopup_draw_id_round_number")),
    )
    op.create_index(op.f("ix_backchecktopup_draw_id"), "backchecktopup", ["draw_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_backchecktopup_draw_id"), table_name="backchecktopup")
    op.drop_table("backchecktopup")
    with op.batch_alter_table("backcheckcase") as batch:
        batch.drop_column("replaced_in_round")
        batch.drop_column("topup_round")
