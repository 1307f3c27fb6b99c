"""letter details: who issues the survey letters, the hotline, and reprintable link copies.

``campaign.commissioner`` (委托单位), ``evaluator_org`` (评价机构) and ``hotline`` are printed
on the letters and the poster (services/letters.py); existing campaigns get empty values,
which the letters leave out. ``accesstoken.token_copy`` is the link encrypted with the link
key (services/link_copies.py), so a letter can be printed again without revoking its link;
links issued before this migration have none and are reprinted by reissuing them.

Revision ID: 69a0ace76006
Revises: 9e4b7d1c3a62
Create Date: 2026-12-06 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "69a0ace76006"
down_revision: str | None = "9e4b7d1c3a62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAMPAIGN_COLUMNS = (("commissioner", 200), ("evaluator_org", 200), ("hotline", 64))


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        for name, length in _CAMPAIGN_COLUMNS:
            batch.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length),
                                       server_default="", nullable=False))
    with op.batch_alter_table("accesstoken") as batch:
        batch.add_column(sa.Column("token_copy", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accesstoken") as batch:
        batch.drop_column("token_copy")
    with op.batch_alter_table("campaign") as batch:
        for name, _length in reversed(_CAMPAIGN_COLUMNS):
            batch.drop_column(name)
