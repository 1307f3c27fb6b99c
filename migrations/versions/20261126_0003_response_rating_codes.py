"""response.rating_codes: the rating answers of a response as one string, backfilled.

One character per rating item of the response's questionnaire version, in the order of its
rating items: "1".."5", "9" for the questionnaire's not-applicable code, "-" for no answer
(survey_app.services.answer_copies, which writes it from now on). The scores read this one
column instead of ~10 answer rows per respondent.

The backfill runs one UPDATE per questionnaire version, built from the stored definition
(not from the app's code, so that this migration keeps meaning what it meant today): the
string is the concatenation of one correlated lookup per rating item on the answer table's
unique (response_id, question_id) index. ``||`` and CASE work the same on SQLite and
PostgreSQL.

Revision ID: 0c6a1f4e2b87
Revises: 5b0c3e7d9a21
Create Date: 2026-11-26 10:00:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0c6a1f4e2b87"
down_revision: str | None = "5b0c3e7d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _rating_items(definition: dict) -> tuple[list[str], str]:
    """Rating item ids in questionnaire order and the not-applicable code of a definition."""
    items = [question["id"] for section in definition.get("sections", [])
             for question in section.get("questions", []) if question.get("type") == "rating"]
    return items, str(definition.get("scale", {}).get("na_code", "9"))


def _backfill_expression(items: list[str], na_code: str) -> tuple[str, dict]:
    parts, params = [], {"na": na_code}
    for k, item in enumerate(items):
        params[f"q{k}"] = item
        parts.append(
            "COALESCE((SELECT CASE WHEN a.code IN ('1', '2', '3', '4', '5') THEN a.code "
            "WHEN a.code = :na THEN '9' END FROM answer a "
            f"WHERE a.response_id = response.id AND a.question_id = :q{k}), '-')")
    return " || ".join(parts) if parts else "''", params


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_codes", sa.Text(), nullable=True))
    connection = op.get_bind()
    versions = connection.execute(sa.text(
        "SELECT id, definition FROM questionnaireversion ORDER BY id")).all()
    for version_id, definition in versions:
        if isinstance(definition, str):  # SQLite returns the JSON column's text
            definition = json.loads(definition)
        expression, params = _backfill_expression(*_rating_items(definition))
        connection.execute(sa.text(
            f"UPDATE response SET rating_codes = {expression} "  # noqa: S608 - ids are bound
            "WHERE questionnaire_version_id = :version"), {**params, "version": version_id})


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("rating_codes")
