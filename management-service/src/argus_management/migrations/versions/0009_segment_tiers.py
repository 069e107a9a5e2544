"""recording_segments.tier and object_key: segments tiered to S3-compatible storage

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing segment is a local file; constant defaults keep ADD COLUMN a plain
    # ALTER on both SQLite and PostgreSQL (no table rewrite).
    op.add_column('recording_segments', sa.Column(
        'tier', sa.String(length=8), server_default='local', nullable=False))
    op.add_column('recording_segments', sa.Column(
        'object_key', sa.String(length=1024), nullable=True))
    # The tiering pass: live local segments of a camera in end order.
    op.create_index('ix_recording_segments_tier', 'recording_segments',
                    ['tier', 'camera_id', 'ended_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_recording_segments_tier', table_name='recording_segments')
    with op.batch_alter_table('recording_segments') as batch:
        batch.drop_column('object_key')
        batch.drop_column('tier')
