"""household.id_tail_hmac: the open link identifies a household by ID tail and phone.

A keyed hash of the last six characters of the household head's ID number, computed at
roster import (services.open_identity). Rows imported before this migration have no
clear ID number left to hash, so the column stays NULL for them: those households can
still identify themselves on the open link with the household code and check code from
their letter.

Revision ID: 5b1e0c7a9d10
Revises: 4e9a7c2b1d63
Create Date: 2026-12-06 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c7a9d10"
down_revision: str | None = "4e9a7c2b1d63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_tail_hmac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("id_tail_hmac")
