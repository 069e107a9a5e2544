"""recordings: the segment index (recording_segments)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # camera_id has no foreign key on purpose: recordings outlive a deleted camera until
    # retention removes them (see recordings/models.py).
    op.create_table('recording_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Double(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('codec', sa.String(length=16), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('has_audio', sa.Boolean(), nullable=False),
    sa.Column('kept', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_segments')),
    sa.UniqueConstraint('path', name=op.f('uq_recording_segments_path'))
    )
    op.create_index('ix_recording_segments_camera_start', 'recording_segments', ['camera_id', 'started_at'], unique=False)
    op.create_index('ix_recording_segments_started_at', 'recording_segments', ['started_at'], unique=False)
    op.create_index('ix_recording_segments_deleted_at', 'recording_segments', ['deleted_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_recording_segments_deleted_at', table_name='recording_segments')
    op.drop_index('ix_recording_segments_started_at', table_name='recording_segments')
    op.drop_index('ix_recording_segments_camera_start', table_name='recording_segments')
    op.drop_table('recording_segments')
