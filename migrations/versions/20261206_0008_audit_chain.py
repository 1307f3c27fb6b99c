"""auditseal: the hash chain over the audit trail, append-only like the trail itself.

Revision ID: 9d3f6b1a7c52
Revises: 4e9b7a2c1d06
Create Date: 2026-12-06 02:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "9d3f6b1a7c52"
down_revision: str | None = "4e9b7a2c1d06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER auditseal_no_update BEFORE UPDATE ON auditseal "
    "BEGIN SELECT RAISE(ABORT, 'auditseal is append-only'); END",
    "CREATE TRIGGER auditseal_no_delete BEFORE DELETE ON auditseal "
    "BEGIN SELECT RAISE(ABORT, 'auditseal is append-only'); END",
]
# auditevent_append_only() comes from the initial migration.
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER auditseal_no_change BEFORE UPDATE OR DELETE ON auditseal "
    "FOR EACH ROW EXECUTE FUNCTION auditevent_append_only()",
    "CREATE TRIGGER auditseal_no_truncate BEFORE TRUNCATE ON auditseal "
    "FOR EACH STATEMENT EXECUTE FUNCTION auditevent_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "auditseal",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["auditevent.id"],
                                name=op.f("fk_auditseal_event_id_auditevent")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_auditseal")),
        sa.UniqueConstraint("event_id", name=op.f("uq_auditseal_event_id")),
        sqlite_autoincrement=True,
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("auditseal")
