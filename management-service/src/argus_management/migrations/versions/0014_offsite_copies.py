"""offsite_copies: off-site copy jobs (the copy runs in management's background runner)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'offsite_copies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('pre_s', sa.Float(), nullable=False),
        sa.Column('post_s', sa.Float(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=512), nullable=True),
        sa.Column('runner', sa.String(length=128), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('requested_by_name', sa.String(length=64), nullable=True),
        sa.Column('requested_ip', sa.String(length=64), nullable=True),
        sa.Column('requested_ua', sa.String(length=256), nullable=True),
        sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
        sa.Column('started_at', TS, nullable=True),
        sa.Column('heartbeat_at', TS, nullable=True),
        sa.Column('finished_at', TS, nullable=True),
        sa.Column('bucket', sa.String(length=255), nullable=True),
        sa.Column('folder', sa.String(length=1024), nullable=True),
        sa.Column('objects', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('missing', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_offsite_copies_state', 'offsite_copies', ['state'])


def downgrade() -> None:
    op.drop_index('ix_offsite_copies_state', table_name='offsite_copies')
    op.drop_table('offsite_copies')
