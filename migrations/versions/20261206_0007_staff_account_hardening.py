"""Staff accounts: per-account login backoff, and ids SQLite never reuses.

``app_user.failed_logins`` and ``last_failed_login_at`` hold the failed logins in a row
(services.account_policy). On SQLite, ``app_user`` and ``apitoken`` are rebuilt as
AUTOINCREMENT tables: without it SQLite hands the highest id out again after a delete,
and a new account with a deleted account's id would inherit its session cookies
("id:session_version") and API tokens. The copied rows seed sqlite_sequence with today's
highest ids. PostgreSQL sequences never reuse ids, so nothing changes there.

Revision ID: 4e9b7a2c1d06
Revises: 8c1d5e3a7f20
Create Date: 2026-12-06 02:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "4e9b7a2c1d06"
down_revision: str | None = "8c1d5e3a7f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("app_user", recreate="always" if sqlite else "auto",
                              table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("last_failed_login_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    if sqlite:
        with op.batch_alter_table("apitoken", recreate="always", table_kwargs=AUTOINCREMENT):
            pass


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("last_failed_login_at")
        batch_op.drop_column("failed_logins")
