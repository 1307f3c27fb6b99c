"""categorycount, rostercount and countchange: per-cell counts and their change ledger.

Issue 23 item 4 ("counts, not rows"): the roll-ups read per-cell counts
(``survey_app.models.counts``). Triggers only *append* a ``countchange`` row naming a
campaign whose counted data changed: a response inserted, deleted, or updated in a column
that decides whether or where it is counted (status, exclusion, household, group, mode,
questionnaire version, rating codes, campaign), or a household inserted, deleted, or moved to
another group or community (the roster counts, and the responses' community), or a
questionnaire attached to or detached from the campaign (which items are its dimensions').
The refresh (``services.category_counts``) recomputes those campaigns' counts exactly and
deletes the ledger rows it used. Nothing here updates a shared row, so submissions in one
community do not queue on each other (an earlier design kept running totals in trigger-
updated rows and did, on PostgreSQL).

PostgreSQL: statement-level triggers with transition tables (one ledger row per campaign and
statement, however many rows a bulk statement touched); SQLite: row-level triggers that add
a row only while the campaign has none pending (SQLite has one writer at a time, so no
refresh can consume that row between the check and the write).

Every existing campaign gets one ledger row, so its counts are computed on first use.

Both tables carry ``campaign_id``: they get the forced row-level-security policy of
migration 0027 (the ledger's WITH CHECK passes for anyone who may change the campaign's
responses, as the trigger runs in their transaction).

Revision ID: 5c2a8e71d4b0
Revises: 7b4e1f0c9d23
Create Date: 2026-12-06 17:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5c2a8e71d4b0"
down_revision: str | None = "7b4e1f0c9d23"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
TABLES = ("categorycount", "rostercount", "countchange")
# Columns of a response that decide whether and where it is counted
# (services.counted_data.counted_query) and what it counted.
COUNTED_COLUMNS = ("campaign_id", "status", "excluded", "household_id", "household_group",
                   "mode", "questionnaire_version_id", "rating_codes")

_CHANGED = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COUNTED_COLUMNS)
POSTGRESQL_FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION countchange_of_response() RETURNS trigger
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
      WHERE {_CHANGED};
  END IF;
  RETURN NULL;
END $$
""",
    """
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
      WHERE o.community_id IS DISTINCT FROM n.community_id
         OR o.household_group IS DISTINCT FROM n.household_group
         OR o.campaign_id IS DISTINCT FROM n.campaign_id;
  END IF;
  RETURN NULL;
END $$
""",
]
POSTGRESQL_FUNCTIONS.append("""
CREATE OR REPLACE FUNCTION countchange_of_attachment() RETURNS trigger
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
           LATERAL (VALUES (o.campaign_id), (n.campaign_id)) AS v(c);
  END IF;
  RETURN NULL;
END $$
""")
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER countchange_response_insert AFTER INSERT ON response "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_response()",
    "CREATE TRIGGER countchange_response_update AFTER UPDATE ON response "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_response()",
    "CREATE TRIGGER countchange_response_delete AFTER DELETE ON response "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_response()",
    "CREATE TRIGGER countchange_household_insert AFTER INSERT ON household "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_household()",
    "CREATE TRIGGER countchange_household_update AFTER UPDATE ON household "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_household()",
    "CREATE TRIGGER countchange_household_delete AFTER DELETE ON household "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_household()",
    "CREATE TRIGGER countchange_attachment_insert AFTER INSERT ON campaignquestionnaire "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_attachment()",
    "CREATE TRIGGER countchange_attachment_update AFTER UPDATE ON campaignquestionnaire "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_attachment()",
    "CREATE TRIGGER countchange_attachment_delete AFTER DELETE ON campaignquestionnaire "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION countchange_of_attachment()",
]
_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED_COLUMNS)
_PG_NOW = "now()"
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite_mark(campaign: str) -> str:
    """SQLite: a ledger row for ``campaign`` (NEW/OLD.campaign_id) unless one is pending."""
    return (f"INSERT INTO countchange (campaign_id, at) SELECT {campaign}, {_NOW} "
            f"WHERE NOT EXISTS (SELECT 1 FROM countchange WHERE campaign_id = {campaign}); ")


_HOUSEHOLD_CHANGED = ("OLD.community_id IS NOT NEW.community_id OR OLD.household_group IS NOT "
                      "NEW.household_group OR OLD.campaign_id IS NOT NEW.campaign_id")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER countchange_response_insert AFTER INSERT ON response BEGIN "
    f"{_sqlite_mark('NEW.campaign_id')}END",
    f"CREATE TRIGGER countchange_response_update AFTER UPDATE ON response "
    f"WHEN {_SQLITE_CHANGED} BEGIN "
    f"{_sqlite_mark('NEW.campaign_id')}{_sqlite_mark('OLD.campaign_id')}END",
    "CREATE TRIGGER countchange_response_delete AFTER DELETE ON response BEGIN "
    f"{_sqlite_mark('OLD.campaign_id')}END",
    "CREATE TRIGGER countchange_household_insert AFTER INSERT ON household BEGIN "
    f"{_sqlite_mark('NEW.campaign_id')}END",
    f"CREATE TRIGGER countchange_household_update AFTER UPDATE ON household "
    f"WHEN {_HOUSEHOLD_CHANGED} BEGIN "
    f"{_sqlite_mark('NEW.campaign_id')}{_sqlite_mark('OLD.campaign_id')}END",
    "CREATE TRIGGER countchange_household_delete AFTER DELETE ON household BEGIN "
    f"{_sqlite_mark('OLD.campaign_id')}END",
    "CREATE TRIGGER countchange_attachment_insert AFTER INSERT ON campaignquestionnaire "
    f"BEGIN {_sqlite_mark('NEW.campaign_id')}END",
    "CREATE TRIGGER countchange_attachment_update AFTER UPDATE ON campaignquestionnaire "
    f"BEGIN {_sqlite_mark('NEW.campaign_id')}{_sqlite_mark('OLD.campaign_id')}END",
    "CREATE TRIGGER countchange_attachment_delete AFTER DELETE ON campaignquestionnaire "
    f"BEGIN {_sqlite_mark('OLD.campaign_id')}END",
]
TRIGGERS = [("countchange_response_insert", "response"),
            ("countchange_response_update", "response"),
            ("countchange_response_delete", "response"),
            ("countchange_household_insert", "household"),
            ("countchange_household_update", "household"),
            ("countchange_household_delete", "household"),
            ("countchange_attachment_insert", "campaignquestionnaire"),
            ("countchange_attachment_update", "campaignquestionnaire"),
            ("countchange_attachment_delete", "campaignquestionnaire")]
VISIBLE = ("survey_unit_path() = '' OR campaign_id IN (SELECT c.id FROM campaign c)")


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression), as migration 0027's."""
    return [(table, VISIBLE, VISIBLE) for table in TABLES]


def upgrade() -> None:
    op.create_table(
        "categorycount",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("household_group", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "item", "household_group", "community_id",
                                "mode", "code"),
    )
    op.create_table(
        "rostercount",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("household_group", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "household_group", "community_id"),
    )
    op.create_table(
        "countchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_countchange_campaign_id"), "countchange", ["campaign_id"],
                    unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in ((*POSTGRESQL_FUNCTIONS, *POSTGRESQL_TRIGGERS) if postgresql
                      else SQLITE_TRIGGERS):
        op.execute(statement)
    op.execute("INSERT INTO countchange (campaign_id, at) "
               f"SELECT id, {_PG_NOW if postgresql else _NOW} FROM campaign")
    if postgresql:
        for table, using, check in policies():
            op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                       f"USING ({using}) WITH CHECK ({check})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS countchange_of_response()")
        op.execute("DROP FUNCTION IF EXISTS countchange_of_household()")
        op.execute("DROP FUNCTION IF EXISTS countchange_of_attachment()")
    op.drop_index(op.f("ix_countchange_campaign_id"), table_name="countchange")
    op.drop_table("countchange")
    op.drop_table("rostercount")
    op.drop_table("categorycount")
