"""householdphone: the further phone numbers of a household whose roster cell holds several.

The roster's phone cell may hold several numbers (mobiles, landlines with area codes;
services.phone_numbers). The first stays in household.phone_hmac/phone_masked as before;
each further one is a row here, a keyed hash and a mask only, so the open link identifies
the household by any of them (services.open_identity). Households imported before have
one number and no rows here.

Revision ID: 42c3cbafe485
Revises: 4f903c348272
Create Date: 2026-12-06 07:52:38
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "42c3cbafe485"
down_revision: str | None = "4f903c348272"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "householdphone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("phone_hmac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_householdphone_household_id_household")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_householdphone")),
    )
    with op.batch_alter_table("householdphone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_householdphone_household_id"), ["household_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_householdphone_phone_hmac"), ["phone_hmac"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("householdphone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_householdphone_phone_hmac"))
        batch_op.drop_index(batch_op.f("ix_householdphone_household_id"))
    op.drop_table("householdphone")
