"""scalecount, listwisesum, drivercount, countsnapshot: per-campaign respondent-level sums.

Issue 23 item 4 ("counts, not rows"): what the scores document's respondent-level sections
need beyond the per-cell counts and pair sums, pooled over a campaign's counted responses
(``survey_app.models.counts``: responses by their number of usable scale items, listwise
sums per row set, the driver analysis' joint counts, the snapshot they were computed from).
Kept by the category counts' refresh from the same ``countchange`` ledger (migration 0028's
triggers already mark every change that could alter them), so no trigger here; every
campaign gets a ledger row so its sums are computed on first use.

Each table carries ``campaign_id``: forced row-level security with 0029's fail-closed test
for the all-units marker.

Revision ID: 8e3f1a6c2d94
Revises: see down_revision
Create Date: 2026-12-06 22:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "8e3f1a6c2d94"
down_revision: str | None = "4b7d2e9a1c58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
VISIBLE = "survey_unit_path() = '*' OR campaign_id IN (SELECT c.id FROM campaign c)"
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
TABLES = ("scalecount", "listwisesum", "drivercount", "countsnapshot")


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression), as 0029's campaign tables."""
    return [(table, VISIBLE, VISIBLE) for table in TABLES]


def _string(length: int) -> sa.Column:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _integers(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _campaign_table(name: str, columns: list[sa.Column], key: Sequence[str]) -> None:
    op.create_table(
        name,
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", *key),
    )


def upgrade() -> None:
    _campaign_table("scalecount", _integers("usable", "n"), ["usable"])
    _campaign_table("listwisesum", [
        sa.Column("row_set", _string(72), nullable=False),
        sa.Column("item_a", _string(64), nullable=False),
        sa.Column("item_b", _string(64), nullable=False),
        *_integers("n", "sum_a", "sum_b", "sum_ab")], ["row_set", "item_a", "item_b"])
    _campaign_table("drivercount", [
        sa.Column("dimension", _string(64), nullable=False),
        *_integers("score_sum", "score_count", "overall_code", "n")],
        ["dimension", "score_sum", "score_count", "overall_code"])
    _campaign_table("countsnapshot", [
        sa.Column("snapshot", _string(64), nullable=False), *_integers("responses")], [])
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Existing campaigns have counts but no respondent sums yet: the next refresh computes them.
    op.execute("INSERT INTO countchange (campaign_id, at) SELECT id, "
               + ("now()" if postgresql else _SQLITE_NOW) + " FROM campaign")
    if postgresql:
        for table, using, check in policies():
            op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                       f"USING ({using}) WITH CHECK ({check})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
