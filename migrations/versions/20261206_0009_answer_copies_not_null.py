"""response.rating_codes, comment, comment_terms NOT NULL, any NULL backfilled first.

Every writer of answers has set the three copies since migrations 0003, 0005 and 0006
backfilled them, and the scores no longer rebuild a NULL copy from the answer rows: a row
written around the services would be counted without its answers. So the database now
refuses such a row. Before the columns become NOT NULL, any NULL is backfilled as those
migrations did (from the answer rows by the stored questionnaire definition; the comment's
tokens with the domain words of 0006), so the upgrade never fails on old data.

SQLite cannot alter a column's nullability: batch mode copies the table.

Revision ID: 4e9a7c2b1d63
Revises: 9d3f6b1a7c52
Create Date: 2026-12-06 02:30:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e9a7c2b1d63"
down_revision: str | None = "9d3f6b1a7c52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_WORDS = ("租赁补贴", "补偿款", "棚改", "补偿标准")
COPIES = ("rating_codes", "comment", "comment_terms")


def _questions(definition: dict, kind: str) -> list[str]:
    return [question["id"] for section in definition.get("sections", [])
            for question in section.get("questions", []) if question.get("type") == kind]


def _rating_codes_expression(definition: dict) -> tuple[str, dict]:
    """0003's expression: one character per rating item from the answer rows."""
    parts, params = [], {"na": str(definition.get("scale", {}).get("na_code", "9"))}
    for k, item in enumerate(_questions(definition, "rating")):
        params[f"q{k}"] = item
        parts.append(
            "COALESCE((SELECT CASE WHEN a.code IN ('1', '2', '3', '4', '5') THEN a.code "
            "WHEN a.code = :na THEN '9' END FROM answer a "
            f"WHERE a.response_id = response.id AND a.question_id = :q{k}), '-')")
    return " || ".join(parts) if parts else "''", params


def _backfill_comments(connection, version_id: int, definition: dict) -> None:
    """0005's fold: the text answers in question order, each stripped, joined by a space."""
    order = {qid: k for k, qid in enumerate(_questions(definition, "text"))}
    texts: dict[int, list[tuple[int, str]]] = {}
    if order:
        for response_id, question_id, text in connection.execute(
                sa.text("SELECT a.response_id, a.question_id, a.text FROM answer a "
                        "JOIN response r ON r.id = a.response_id "
                        "WHERE r.questionnaire_version_id = :version AND r.comment IS NULL "
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


def _backfill_comment_terms(connection) -> None:
    from analysis import word_tokens

    connection.execute(sa.text(
        "UPDATE response SET comment_terms = '' WHERE comment_terms IS NULL AND comment = ''"))
    rows = connection.execute(sa.text(
        "SELECT id, comment FROM response WHERE comment_terms IS NULL")).all()
    if rows:
        connection.execute(
            sa.text("UPDATE response SET comment_terms = :terms WHERE id = :id"),
            [{"terms": " ".join(word_tokens(comment, USER_WORDS)), "id": response_id}
             for response_id, comment in rows])


def upgrade() -> None:
    connection = op.get_bind()
    versions = connection.execute(sa.text(
        "SELECT id, definition FROM questionnaireversion ORDER BY id")).all()
    for version_id, definition in versions:
        if isinstance(definition, str):  # SQLite returns the JSON column's text
            definition = json.loads(definition)
        expression, params = _rating_codes_expression(definition)
        connection.execute(sa.text(
            f"UPDATE response SET rating_codes = {expression} "  # noqa: S608 - ids are bound
            "WHERE questionnaire_version_id = :version AND rating_codes IS NULL"),
            {**params, "version": version_id})
        _backfill_comments(connection, version_id, definition)
    connection.execute(sa.text("UPDATE response SET comment = '' WHERE comment IS NULL"))
    _backfill_comment_terms(connection)
    with op.batch_alter_table("response", schema=None) as batch_op:
        for column in COPIES:
            batch_op.alter_column(column, existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        for column in COPIES:
            batch_op.alter_column(column, existing_type=sa.Text(), nullable=True)
