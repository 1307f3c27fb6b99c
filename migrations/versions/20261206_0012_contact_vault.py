"""household contact vault: name, address and phone sealed with AES-256-GCM.

``contact_sealed`` holds the ciphertext of one household's contact details, bound to its
campaign and household code (services.contact_vault); ``contact_key_id`` names the key that
sealed it (for `survey-app contacts rotate-key`); ``contact_purged_at`` is set when the
campaign's clear contacts were deleted after fieldwork. Households imported before this
migration have no clear contact data left to seal: the columns stay NULL and their page says so.

Revision ID: 7c3f9a2e4b15
Revises: 5b8d2e6f0a11
Create Date: 2026-12-06 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "7c3f9a2e4b15"
down_revision: str | None = "5b8d2e6f0a11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("contact_key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("contact_purged_at",
                                      sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("contact_purged_at")
        batch_op.drop_column("contact_key_id")
        batch_op.drop_column("contact_sealed")
