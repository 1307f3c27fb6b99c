"""response.comment: the free-text answers of a response joined, backfilled.

The scores' comment themes read every counted respondent's comment; from the answer table
that was one index probe per respondent (half of reading 100,000 responses). From now on
survey_app.services.answer_copies writes the comment on the response row with the answers:
the free-text answers in question order, each stripped and joined with a space, "" for
none.

The backfill folds the stored text answers in Python (str.strip removes more kinds of
white space than SQL's TRIM, e.g. the full-width space), per questionnaire version from
its stored definition, so that this migration keeps meaning what it meant today.

Revision ID: 3f7b2c9d6e14
Revises: 9e2d4b6a1c53
Create Date: 2026-11-26 11:00:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f7b2c9d6e14"
down_revision: str | None = "9e2d4b6a1c53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text_questions(definition: dict) -> list[str]:
    return [question["id"] for section in definition.get("sections", [])
            for question in section.get("questions", []) if question.get("type") == "text"]


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
    connection = op.get_bind()
    versions = connection.execute(sa.text(
        "SELECT id, definition FROM questionnaireversion ORDER BY id")).all()
    for version_id, definition in versions:
        if isinstance(definition, str):  # SQLite returns the JSON column's text
            definition = json.loads(definition)
        order = {qid: k for k, qid in enumerate(_text_questions(definition))}
        texts: dict[int, list[tuple[int, str]]] = {}
        if order:
            for response_id, question_id, text in connection.execute(
                    sa.text("SELECT a.response_id, a.question_id, a.text FROM answer a "
                            "JOIN response r ON r.id = a.response_id "
                            "WHERE r.questionnaire_version_id = :version "
                            "AND a.question_id IN :questions AND a.text <> ''")
                    .bindparams(sa.bindparam("questions", expanding=True)),
                    {"version": version_id, "questions": list(order)}):
                texts.setdefault(response_id, []).append((order[question_id], text))
        updates = []
        for response_id, answered in texts.items():
            comment = ""
            for _, text in sorted(answered):
                comment = (comment + " " + text).strip()
            updates.append({"comment": comment, "id": response_id})
        if updates:
            connection.execute(sa.text("UPDATE response SET comment = :comment WHERE id = :id"),
                               updates)
        connection.execute(sa.text(
            "UPDATE response SET comment = '' "
            "WHERE questionnaire_version_id = :version AND comment IS NULL"),
            {"version": version_id})


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("comment")
