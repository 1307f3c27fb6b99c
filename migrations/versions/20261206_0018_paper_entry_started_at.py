"""paperentry.started_at: when the entry page of a paper form was opened (keying paradata).

With ``created_at`` (saved) it gives each entry's keying duration for the fabrication
indicators per worker (issue 20 item 5). The start comes from a signed stamp in the entry
form; entries typed before this migration have no known start and stay NULL.

Revision ID: 5b1e0c7d9a18
Revises: 390a734a3a57
Create Date: 2026-12-06 10:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5b1e0c7d9a18"
down_revision: str | None = "390a734a3a57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("paperentry") as batch:
        batch.add_column(sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paperentry") as batch:
        batch.drop_column("started_at")
