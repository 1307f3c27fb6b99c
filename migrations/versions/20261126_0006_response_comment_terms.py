"""response.comment_terms: the word tokens of response.comment, backfilled.

The comment themes of the scores segmented every distinct comment with jieba in every
worker, about 0.06 ms each: ~4 s for the ~65,000 distinct comments of 100,000 real
responses. From now on survey_app.services.answer_copies writes the comment's word tokens
(analysis.word_tokens with the domain words below, joined with a space) when the answers
are written, and the themes count them.

The backfill segments the stored comments the same way, with the domain words as they are
today (tests/app/test_migrations.py checks they are the services' words); a later change of
the words needs a migration that segments them again. It calls the current
analysis.word_tokens and jieba, so a later run of it follows their later versions (as the
services do for new comments).

Revision ID: 8c1d5e3a7f20
Revises: 3f7b2c9d6e14
Create Date: 2026-11-26 13:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c1d5e3a7f20"
down_revision: str | None = "3f7b2c9d6e14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_WORDS = ("租赁补贴", "补偿款", "棚改", "补偿标准")
BATCH = 5_000


def upgrade() -> None:
    from analysis import word_tokens

    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_terms", sa.Text(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE response SET comment_terms = '' WHERE comment = ''"))
    last_id = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, comment FROM response WHERE id > :last AND comment <> '' "
            "ORDER BY id LIMIT :batch"), {"last": last_id, "batch": BATCH}).all()
        if not rows:
            break
        connection.execute(
            sa.text("UPDATE response SET comment_terms = :terms WHERE id = :id"),
            [{"terms": " ".join(word_tokens(comment, USER_WORDS)), "id": response_id}
             for response_id, comment in rows])
        last_id = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("comment_terms")
