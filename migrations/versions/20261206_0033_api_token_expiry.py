"""API tokens expire: ``apitoken.expires_at``.

A token is refused after it (401, "expired"); ``survey-app api-token create --days N``
sets it, 180 days by default (``services.api_tokens``). A token created before this
migration expires 180 days after its creation, but not sooner than 30 days after the
upgrade, so a tool still using an old token has a month to get a new one (``survey-app
api-token list`` shows each token's expiry).

Revision ID: 9d4b7e2c6a15
Revises: 6a2c9e4f1b37
Create Date: 2026-12-06 20:40:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9d4b7e2c6a15"
down_revision: str | None = "6a2c9e4f1b37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIFETIME = timedelta(days=180)
GRACE = timedelta(days=30)
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("apitoken") as batch:
        batch.add_column(sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
    table = sa.table("apitoken", sa.column("id", sa.Integer()),
                     sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
                     sa.column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    connection = op.get_bind()
    earliest = datetime.now(UTC) + GRACE
    for token_id, created_at in connection.execute(sa.select(table.c.id, table.c.created_at)):
        created = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        connection.execute(table.update().where(table.c.id == token_id).values(
            expires_at=max(created + LIFETIME, earliest)))
    # SQLite rebuilds the table for this: keep AUTOINCREMENT (ids of deleted tokens are never
    # handed out again, models.user).
    with op.batch_alter_table("apitoken", table_kwargs=KEEP) as batch:
        batch.alter_column("expires_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
                           nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("apitoken", table_kwargs=KEEP) as batch:
        batch.drop_column("expires_at")
