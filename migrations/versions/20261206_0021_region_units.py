"""unit: the region hierarchy (province → city → county → street → community, GB/T 2260
codes, a materialised path for subtree queries); campaign.unit_id (nullable: campaigns made
before keep working without a unit); app_user.unit_id (an evaluator limited to a unit's
subtree; nullable: everyone else, and every account made before, is not limited).

Revision ID: 5b1e0c7d9a24
Revises: b7c1e4d2a918
Create Date: 2026-12-06 10:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5b1e0c7d9a24"
down_revision: str | None = "b7c1e4d2a918"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["unit.id"],
                                name=op.f("fk_unit_parent_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
    )
    op.create_index(op.f("ix_unit_parent_id"), "unit", ["parent_id"], unique=False)
    op.create_index(op.f("ix_unit_path"), "unit", ["path"], unique=False)
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_campaign_unit_id"), ["unit_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_campaign_unit_id_unit"), "unit", ["unit_id"],
                                 ["id"])
    # On SQLite app_user is rebuilt keeping AUTOINCREMENT (ids never reused; see 0007).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("app_user", recreate="always" if sqlite else "auto",
                              table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_app_user_unit_id_unit"), "unit", ["unit_id"],
                                 ["id"])


def downgrade() -> None:
    with op.batch_alter_table("app_user", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_constraint(batch.f("fk_app_user_unit_id_unit"), type_="foreignkey")
        batch.drop_column("unit_id")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_constraint(batch.f("fk_campaign_unit_id_unit"), type_="foreignkey")
        batch.drop_index(batch.f("ix_campaign_unit_id"))
        batch.drop_column("unit_id")
    op.drop_index(op.f("ix_unit_path"), table_name="unit")
    op.drop_index(op.f("ix_unit_parent_id"), table_name="unit")
    op.drop_table("unit")
