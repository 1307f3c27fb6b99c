"""Covering index for the scores data version of a campaign's responses.

services.score_cache.data_version aggregates count, max(id), max(updated_at) and the
complete/excluded counts of one campaign's responses on every cached scores request and
dashboard view. With this index the aggregate reads only the index (index-only scan on
PostgreSQL, covering index on SQLite; ``id`` is the rowid there) instead of every response
row of the campaign. ``id`` comes second so that keyset pages of a campaign's responses
(``campaign_id = ? AND id > ? ORDER BY id LIMIT n``, the exports) remain range scans in id
order whatever the status/exclusion filters.

Revision ID: 5b0c3e7d9a21
Revises: 84eac65ace04
Create Date: 2026-11-26 09:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "5b0c3e7d9a21"
down_revision: str | None = "84eac65ace04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["campaign_id", "id", "status", "excluded", "updated_at"]


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index("ix_response_data_version", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_data_version")
