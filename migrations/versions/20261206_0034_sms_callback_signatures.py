"""Signed SMS callback posts are accepted once: ``smscallbacksignature``.

Each accepted signature (its HMAC, and the timestamp it signs) is kept while the timestamp
is inside the five-minute window, so a captured signed post cannot be replayed
(``services.sms_callback_signatures``). No campaign data (no body, no phone number): no row
security policy.

Revision ID: 2e8a5c1f7b93
Revises: 9d4b7e2c6a15
Create Date: 2026-12-06 20:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "2e8a5c1f7b93"
down_revision: str | None = "9d4b7e2c6a15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smscallbacksignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smscallbacksignature")),
        sa.UniqueConstraint("digest", name=op.f("uq_smscallbacksignature_digest")),
    )
    op.create_index(op.f("ix_smscallbacksignature_signed_at"), "smscallbacksignature",
                    ["signed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_smscallbacksignature_signed_at"),
                  table_name="smscallbacksignature")
    op.drop_table("smscallbacksignature")
