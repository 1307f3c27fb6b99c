"""categorycount and pairsum per project; pairsum's satisfied counts (sat_a, sat_b, sat_ab).

Issue 23 item 4 ("counts, not rows"): the campaign's scores document has per-project cells,
so the stored aggregates gain ``project_id`` (0: the response's household has none) in their
keys, after ``mode``; each item pair also keeps how many of its responses answered 4 or 5 to
a, to b and to both (``survey_app.models.counts``).

The counts are derived data: both tables are dropped and made again in the new shape, and
every campaign gets a ``countchange`` row so the next refresh recomputes them (until then the
readers recompute pending campaigns in memory). A household moved to another project now
changes its answers' cells, so 0028's household trigger also marks a changed ``project_id``.

Dropping a table drops its row-level-security policy: each is made again exactly as 0029 left
categorycount's and 0031 made pairsum's (forced, fail-closed). Downgrade restores the old
shape, policy and trigger the same way.

Revision ID: 4b7d2e9a1c58
Revises: 2e8a5c1f7b93
Create Date: 2026-12-06 22:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "4b7d2e9a1c58"
down_revision: str | None = "2e8a5c1f7b93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
VISIBLE = "survey_unit_path() = '*' OR campaign_id IN (SELECT c.id FROM campaign c)"
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
OLD_SUMS = ("n", "sum_a", "sum_b", "sum_ab", "sumsq_a", "sumsq_b")
NEW_SUMS = (*OLD_SUMS, "sat_a", "sat_b", "sat_ab")
# The household columns that decide where its responses are counted (0028's, and now the
# project).
OLD_HOUSEHOLD = ("community_id", "household_group", "campaign_id")
NEW_HOUSEHOLD = (*OLD_HOUSEHOLD, "project_id")


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression), as 0029's campaign tables."""
    return [("categorycount", VISIBLE, VISIBLE), ("pairsum", VISIBLE, VISIBLE)]


def _string(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _project(projects: bool) -> list[sa.Column]:
    return [sa.Column("project_id", sa.Integer(), nullable=False)] if projects else []


def _create_tables(projects: bool) -> None:
    key = ["project_id"] if projects else []
    op.create_table(
        "categorycount",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("item", _string(64), nullable=False),
        sa.Column("household_group", _string(32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("mode", _string(16), nullable=False),
        *_project(projects),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "item", "household_group", "community_id",
                                "mode", *key, "code"),
    )
    op.create_table(
        "pairsum",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("item_a", _string(64), nullable=False),
        sa.Column("item_b", _string(64), nullable=False),
        sa.Column("household_group", _string(32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("mode", _string(16), nullable=False),
        *_project(projects),
        *[sa.Column(name, sa.Integer(), nullable=False)
          for name in (NEW_SUMS if projects else OLD_SUMS)],
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "item_a", "item_b", "household_group",
                                "community_id", "mode", *key),
    )


def _household_trigger(columns: Sequence[str], *, postgresql: bool) -> None:
    """0028's household trigger, marking a change of any of ``columns``."""
    if postgresql:
        changed = "\n         OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
        op.execute(f"""
CREATE OR REPLACE FUNCTION countchange_of_household() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO countchange (campaign_id, at)
      SELECT DISTINCT campaign_id, now() FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO countchange (campaign_id, at)
      SELECT DISTINCT campaign_id, now() FROM old_rows;
  ELSE
    INSERT INTO countchange (campaign_id, at)
      SELECT DISTINCT v.c, now()
      FROM old_rows o JOIN new_rows n ON n.id = o.id,
           LATERAL (VALUES (o.campaign_id), (n.campaign_id)) AS v(c)
      WHERE {changed};
  END IF;
  RETURN NULL;
END $$
""")
        return
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)

    def mark(campaign: str) -> str:
        return (f"INSERT INTO countchange (campaign_id, at) SELECT {campaign}, {_SQLITE_NOW} "
                "WHERE NOT EXISTS (SELECT 1 FROM countchange "
                f"WHERE campaign_id = {campaign}); ")

    op.execute("DROP TRIGGER IF EXISTS countchange_household_update")
    op.execute("CREATE TRIGGER countchange_household_update AFTER UPDATE ON household "
               f"WHEN {changed} BEGIN "
               f"{mark('NEW.campaign_id')}{mark('OLD.campaign_id')}END")


def _rebuild(projects: bool) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_table("pairsum")
    op.drop_table("categorycount")
    _create_tables(projects)
    _household_trigger(NEW_HOUSEHOLD if projects else OLD_HOUSEHOLD, postgresql=postgresql)
    # The counts are gone: the next refresh recomputes every campaign's.
    op.execute("INSERT INTO countchange (campaign_id, at) SELECT id, "
               + ("now()" if postgresql else _SQLITE_NOW) + " FROM campaign")
    if postgresql:
        for table, using, check in policies():
            op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                       f"USING ({using}) WITH CHECK ({check})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    _rebuild(projects=True)


def downgrade() -> None:
    _rebuild(projects=False)
