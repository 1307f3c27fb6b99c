"""commentredaction, and response.comment scrubbed of personal data.

Residents type phone numbers, ID numbers, names and flats into the comment box.
``response.comment`` (the copy the comment themes, the report's quotes, the API and the
dashboard read) now holds the comment scrubbed by survey_app.services.text_scrub.scrub, and
``comment_terms`` the scrubbed comment's tokens with the placeholders left out; the answer
rows keep the original. The backfill scrubs the stored comments and segments again only
those it changed. It calls the current scrubber and analysis.word_tokens, so a later run
follows their later versions (as 0006 does for the tokens).

``commentredaction``: an evaluator's hand redaction of one response's free text (fragments
the scrubber missed, or the whole comment withheld), applied by every outlet.

Revision ID: 4f903c348272
Revises: 69a0ace76006
Create Date: 2026-12-06 07:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "4f903c348272"
down_revision: str | None = "69a0ace76006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_WORDS = ("租赁补贴", "补偿款", "棚改", "补偿标准")
BATCH = 5_000


def upgrade() -> None:
    op.create_table(
        "commentredaction",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("fragments", sa.JSON(), nullable=False),
        sa.Column("withhold_all", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"],
                                name=op.f("fk_commentredaction_response_id_response")),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_commentredaction")),
    )
    _scrub_stored_comments(op.get_bind())


def _scrub_stored_comments(connection) -> None:
    from analysis import word_tokens
    from survey_app.services.text_scrub import scrub, without_placeholders

    last_id = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, comment FROM response WHERE id > :last AND comment <> '' "
            "ORDER BY id LIMIT :batch"), {"last": last_id, "batch": BATCH}).all()
        if not rows:
            break
        updates = []
        for response_id, comment in rows:
            scrubbed = scrub(comment)
            if scrubbed != comment:
                terms = without_placeholders(scrubbed).strip()
                updates.append({"id": response_id, "comment": scrubbed,
                                "terms": " ".join(word_tokens(terms, USER_WORDS))
                                if terms else ""})
        if updates:
            connection.execute(sa.text(
                "UPDATE response SET comment = :comment, comment_terms = :terms "
                "WHERE id = :id"), updates)
        last_id = rows[-1][0]


def downgrade() -> None:
    # The scrubbed comments stay scrubbed: the originals are in the answer rows, and the
    # copy of an older version was the same text unscrubbed (0009's backfill rebuilds it).
    op.drop_table("commentredaction")
