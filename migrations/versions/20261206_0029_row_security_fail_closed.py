"""Row-level security fails closed: an unset ``survey.unit_path`` sees no campaign row.

Migration 0027 read an unset or empty path as "every row", so code that ran outside a
request (a job worker, a CLI command, a script) was unscoped by accident. Now only the
explicit marker ``*`` (``survey_app.row_security.ALL_UNITS``) sees every row; a unit's path
sees its subtree; unset or empty sees nothing. Whatever legitimately needs every row sets the
marker through ``survey_app.row_security.acting_as``: requests of global accounts and of
residents, CLI commands, the job worker's own bookkeeping; migrations set it on their
connection (``migrations/env.py``) and ``survey-app backup`` on pg_dump's. A job's work runs
with its requester's path.

``survey_unit_path()`` now returns NULL for an unset or empty setting, so both
``survey_unit_path() = '*'`` and ``starts_with(path, survey_unit_path())`` are NULL there:
no row passes. The tables are 0027's and 0028's (the category counts); every later policy must use these expressions
(tests/security/test_row_security.py checks every policy-bearing table as a
non-superuser with the path unset).

Revision ID: c5a1e7f30b28
Revises: 5c2a8e71d4b0
Create Date: 2026-12-06 17:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "c5a1e7f30b28"
down_revision: str | None = "5c2a8e71d4b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
ALL_UNITS = "*"
SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION survey_unit_path() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT {body} $$
"""
FAIL_CLOSED = "nullif(current_setting('survey.unit_path', true), '')"
FAIL_OPEN = "coalesce(current_setting('survey.unit_path', true), '')"  # 0027's
CAMPAIGN_TABLES = ("household", "response", "paperform", "visit", "outboxmessage", "smswave",
                   "interviewparadata", "campaignreport", "backcheckdraw", "project",
                   "backgroundjob", "campaignquestionnaire",
                   # migration 0028's, made with 0027's fail-open expression
                   "categorycount", "rostercount", "countchange")
CHILD_TABLES = {
    "answer": ("response_id", "response"),
    "commentredaction": ("response_id", "response"),
    "accesstoken": ("household_id", "household"),
    "householdphone": ("household_id", "household"),
    "paperentry": ("paper_form_id", "paperform"),
    "reconciliation": ("paper_form_id", "paperform"),
    "backcheckcase": ("draw_id", "backcheckdraw"),
}


def policies(unrestricted: str) -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression) of every policy."""
    campaign_visible = (f"{unrestricted} OR unit_id IN (SELECT u.id FROM unit u "
                        "WHERE starts_with(u.path, survey_unit_path()))")
    rows = [("campaign", campaign_visible, campaign_visible)]
    visible = f"{unrestricted} OR campaign_id IN (SELECT c.id FROM campaign c)"
    rows += [(table, visible, visible) for table in CAMPAIGN_TABLES]
    rows += [(table, f"{unrestricted} OR {key} IN (SELECT p.id FROM {parent} p)", "true")
             for table, (key, parent) in CHILD_TABLES.items()]
    return rows


def _apply(body: str, unrestricted: str) -> None:
    op.execute(SCOPE_FUNCTION.format(body=body))
    for table, using, check in policies(unrestricted):
        op.execute(f"ALTER POLICY {POLICY} ON {table} USING ({using}) WITH CHECK ({check})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite pilots keep the application's scoping only
    _apply(FAIL_CLOSED, f"survey_unit_path() = '{ALL_UNITS}'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _apply(FAIL_OPEN, "survey_unit_path() = ''")
