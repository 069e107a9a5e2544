"""ptz_guard_tours: presets and dwell times a PTZ camera visits in a loop (issue 20)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'ptz_guard_tours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('camera_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('schedule', JSON, nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'],
                                name=op.f('fk_ptz_guard_tours_camera_id_cameras'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'],
                                name=op.f('fk_ptz_guard_tours_created_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ptz_guard_tours')),
        sa.UniqueConstraint('camera_id', 'name', name='uq_ptz_guard_tours_camera_name'),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_ptz_guard_tours_camera_id'), 'ptz_guard_tours', ['camera_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ptz_guard_tours_camera_id'), table_name='ptz_guard_tours')
    op.drop_table('ptz_guard_tours')
