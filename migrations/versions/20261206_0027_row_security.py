"""Row-level security on the campaign data (PostgreSQL only; nothing on SQLite).

Defence in depth for the unit scope (issue 23 item 1): the app sets ``survey.unit_path``
in each transaction of a request whose account is granted a unit (``/430000/430900/430903/``
for a county; ``survey_app.row_security``), and these policies hide every row of a campaign
whose unit lies outside that path, so a view that forgets the application's filter still
reads nothing of another county. Unset or empty means every row: residents' requests,
global accounts, the CLI, migrations and background work.

The tables: ``campaign`` (by its unit's path), every table with a ``campaign_id`` (through
the campaign policy: ``campaign_id IN (SELECT id FROM campaign)``, where the subquery is
itself filtered), and the tables keyed by a parent only (answers, tokens, phones, paper
entries, reconciliations, redactions, back-check cases, through their parent). Not covered:
the audit trail (append-only and hash-chained, verified as a whole; its rows hold no
personal data), units, communities, questionnaire versions and accounts (no campaign data).

Inserts and updates of the campaign-keyed tables are checked by the same expression, so a
county account cannot write into another county either. The parent-keyed tables check
reads only (``WITH CHECK (true)``): PostgreSQL writes a response and its answers in one
statement, and the new response is not yet visible to the answers' check subquery.

``FORCE ROW LEVEL SECURITY``: the policies apply to the tables' owner too, so they hold
when the app connects as the role that owns the schema. Superusers (and roles with
BYPASSRLS) are never filtered: production must not connect as one (README, "PostgreSQL
row-level security").

Revision ID: 7b4e1f0c9d23
Revises: 3d9dfc06a0cd
Create Date: 2026-12-06 14:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "7b4e1f0c9d23"
down_revision: str | None = "3d9dfc06a0cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
# The scope the app set for this transaction ('' or unset: every row). An SQL function
# PostgreSQL inlines, so each policy reads it as a stable expression.
SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION survey_unit_path() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('survey.unit_path', true), '') $$
"""
UNRESTRICTED = "survey_unit_path() = ''"
CAMPAIGN_VISIBLE = (f"{UNRESTRICTED} OR unit_id IN (SELECT u.id FROM unit u "
                    "WHERE starts_with(u.path, survey_unit_path()))")
CAMPAIGN_TABLES = ("household", "response", "paperform", "visit", "outboxmessage", "smswave",
                   "interviewparadata", "campaignreport", "backcheckdraw", "project", "backgroundjob",
                   "campaignquestionnaire")
# table -> (its parent key, the parent table)
CHILD_TABLES = {
    "answer": ("response_id", "response"),
    "commentredaction": ("response_id", "response"),
    "accesstoken": ("household_id", "household"),
    "householdphone": ("household_id", "household"),
    "paperentry": ("paper_form_id", "paperform"),
    "reconciliation": ("paper_form_id", "paperform"),
    "backcheckcase": ("draw_id", "backcheckdraw"),
}


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression) of every policy."""
    rows = [("campaign", CAMPAIGN_VISIBLE, CAMPAIGN_VISIBLE)]
    visible = f"{UNRESTRICTED} OR campaign_id IN (SELECT c.id FROM campaign c)"
    rows += [(table, visible, visible) for table in CAMPAIGN_TABLES]
    rows += [(table, f"{UNRESTRICTED} OR {key} IN (SELECT p.id FROM {parent} p)", "true")
             for table, (key, parent) in CHILD_TABLES.items()]
    return rows


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite pilots keep the application's scoping only
    op.execute(SCOPE_FUNCTION)
    for table, using, check in policies():
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                   f"USING ({using}) WITH CHECK ({check})")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _using, _check in reversed(policies()):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS survey_unit_path()")
