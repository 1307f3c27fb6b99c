"""response.decided_at: when an evaluator last decided about a response's quality flags.

The quality page filters flagged responses by decided/undecided (issue 16 item 7). Responses
excluded before this migration were decided by an evaluator: their ``updated_at`` is the
closest time known.

Revision ID: 390a734a3a57
Revises: 42c3cbafe485
Create Date: 2026-12-06 07:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "390a734a3a57"
down_revision: str | None = "42c3cbafe485"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
    op.execute("UPDATE response SET decided_at = updated_at WHERE excluded")


def downgrade() -> None:
    with op.batch_alter_table("response") as batch:
        batch.drop_column("decided_at")
