"""Row security for backchecktopup: a back-check top-up belongs to its draw's campaign.

Migration 0024 added ``backchecktopup`` (keyed by ``draw_id``, not ``campaign_id``), so
neither 0027's lists nor the coverage test saw it: a county account's connection could read
every county's top-up records. It gets the child-table policy of 0027 (visible when its draw
is), with 0029's fail-closed test for the all-units marker.

Revision ID: 9e4d2b7a1c60
Revises: c5a1e7f30b28
Create Date: 2026-12-06 18:05:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "9e4d2b7a1c60"
down_revision: str | None = "c5a1e7f30b28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "unit_scope"
UNRESTRICTED = "survey_unit_path() = '*'"


def policies() -> list[tuple[str, str, str]]:
    """(table, USING expression, WITH CHECK expression), as 0027's child tables."""
    return [("backchecktopup",
             f"{UNRESTRICTED} OR draw_id IN (SELECT d.id FROM backcheckdraw d)", "true")]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite pilots keep the application's scoping only
    for table, using, check in policies():
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL "
                   f"USING ({using}) WITH CHECK ({check})")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _using, _check in policies():
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
