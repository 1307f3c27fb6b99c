"""backgroundjob: the outbox of the background job queue (issue 23 item 3).

One row per export, report, letter batch or roster import, written with the request's audit
event; the worker claims it, reports progress in it and records its file (services/jobs.py).

Revision ID: 3d9dfc06a0cd
Revises: 7b3e0c9d2f41
Create Date: 2026-12-06 14:08:57.330028
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '3d9dfc06a0cd'
down_revision: str | None = '7b3e0c9d2f41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('backgroundjob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('audit_event_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('enqueued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('result_path', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('result_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('result_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('result_size', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                            name=op.f('fk_backgroundjob_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['requested_by'], ['app_user.id'],
                            name=op.f('fk_backgroundjob_requested_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backgroundjob'))
    )
    with op.batch_alter_table('backgroundjob', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backgroundjob_campaign_id'), ['campaign_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_backgroundjob_requested_by'), ['requested_by'],
                              unique=False)
        batch_op.create_index('ix_backgroundjob_status_id', ['status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('backgroundjob', schema=None) as batch_op:
        batch_op.drop_index('ix_backgroundjob_status_id')
        batch_op.drop_index(batch_op.f('ix_backgroundjob_requested_by'))
        batch_op.drop_index(batch_op.f('ix_backgroundjob_campaign_id'))

    op.drop_table('backgroundjob')
