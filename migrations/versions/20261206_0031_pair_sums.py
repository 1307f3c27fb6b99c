"""pairsum: per-cell item-pair sums of each dimension's rating items (alpha, correlations).

Issue 23 item 4's cross-product sums: per campaign × community × household group × mode and
pair of rating items of one dimension, the sums N, S, P, Q that pairwise-deletion alpha and
inter-item correlations need (``survey_app.models.counts.PairSum``). Kept by the category
counts' refresh from the same ``countchange`` ledger (migration 0028's triggers already mark
every change that could alter them), so no trigger here; every campaign gets a ledger row
so its sums are computed on first use.

The table carries ``campaign_id``: forced row-level security with 0029's fail-closed test
for the all-units marker.

Revision ID: 3f8c6d1e2a47
Revises: 9e4d2b7a1c60
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "3f8c6d1e2a47"
down_revision: str | None = "9e4d2b7a1c60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
VISIBLE = "survey_unit_path() = '*' OR campaign_id IN (SELECT c.id FROM campaign c)"
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SUMS = ("n", "sum_a", "sum_b", "sum_ab", "sumsq_a", "sumsq_b")


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression), as 0029's campaign tables."""
    return [("pairsum", VISIBLE, VISIBLE)]


def upgrade() -> None:
    op.create_table(
        "pairsum",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("item_a", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("item_b", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("household_group", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SUMS],
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "item_a", "item_b", "household_group",
                                "community_id", "mode"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Existing campaigns have counts but no sums yet: the next refresh computes both.
    op.execute("INSERT INTO countchange (campaign_id, at) SELECT id, "
               + ("now()" if postgresql else _SQLITE_NOW) + " FROM campaign")
    if postgresql:
        for table, using, check in policies():
            op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                       f"USING ({using}) WITH CHECK ({check})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("pairsum")
