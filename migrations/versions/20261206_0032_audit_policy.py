"""Row security for the audit trail: a county's events are its own.

Migration 0027 left ``auditevent`` out because sealing (``services.audit_chain``) chains
each new seal from the global head, the last seal of *every* county. Now:

- ``auditevent``: visible in the all-units scope (``*``), or when its campaign is (0029's
  fail-closed expression). An event without a campaign (logins, accounts, units, jobs
  without a campaign) is visible in the ``*`` scope only: global accounts, the CLI, the
  job worker's bookkeeping; a unit-scoped account has never had a page listing them.
  Inserts are checked by the same expression, except that any scope may append an event
  without a campaign (a county user's logout or password change): appending reveals
  nothing, and the trail is append-only. ``services.audit.record`` takes such an event's
  id from the sequence first, as ``INSERT ... RETURNING`` must be able to read its row.
- ``auditseal``: visible, and insertable, when its event is (0027's child tables), so a
  county's sealer finds its own unsealed events and nobody else's.
- ``audit_chain_head()``: the last seal's hash, read in the ``*`` scope whatever the
  caller's (set by the function, the caller's restored before it returns). It reveals one
  hash and nothing of any event; a county's sealer chains from it under the sealing lock,
  so the trail stays one chain (tests/security/test_audit_row_security.py).

Verification (``survey-app audit verify``) runs as ``*`` and checks every seal in order.

Revision ID: 6a2c9e4f1b37
Revises: 3f8c6d1e2a47
Create Date: 2026-12-06 20:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "6a2c9e4f1b37"
down_revision: str | None = "3f8c6d1e2a47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
UNRESTRICTED = "survey_unit_path() = '*'"
VISIBLE = f"{UNRESTRICTED} OR campaign_id IN (SELECT c.id FROM campaign c)"
APPENDABLE = (f"{UNRESTRICTED} OR campaign_id IS NULL "
              "OR campaign_id IN (SELECT c.id FROM campaign c)")
SEAL_VISIBLE = f"{UNRESTRICTED} OR event_id IN (SELECT e.id FROM auditevent e)"
# Not a ``SET survey.unit_path = '*'`` clause: PostgreSQL lets only a superuser (or a role
# granted SET ON PARAMETER) put a custom setting in a function's SET clause, and the schema
# owner that runs `survey-app db upgrade` is not one (README, Regions). The function sets
# the scope itself and gives the caller's back (a failed statement rolls both back).
HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_head() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    caller text := current_setting('survey.unit_path', true);
    head text;
BEGIN
    PERFORM set_config('survey.unit_path', '*', true);
    SELECT chain_hash INTO head FROM auditseal ORDER BY seq DESC LIMIT 1;
    PERFORM set_config('survey.unit_path', coalesce(caller, ''), true);
    RETURN head;
END $$
"""


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression) of every policy."""
    return [("auditevent", VISIBLE, APPENDABLE), ("auditseal", SEAL_VISIBLE, SEAL_VISIBLE)]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite pilots keep the application's scoping only
    op.execute(HEAD_FUNCTION)
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
    op.execute("DROP FUNCTION IF EXISTS audit_chain_head()")
