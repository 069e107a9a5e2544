"""rtmp: stream keys (rtmp_keys)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial unique index: a name is unique among keys that are not revoked (both dialects).
LIVE = sa.text('revoked_at IS NULL')


def upgrade() -> None:
    op.create_table('rtmp_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rtmp_keys_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_rtmp_keys_camera_id_cameras'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtmp_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_rtmp_keys_key_hash'))
    )
    op.create_index(op.f('ix_rtmp_keys_user_id'), 'rtmp_keys', ['user_id'], unique=False)
    op.create_index('ix_rtmp_keys_name', 'rtmp_keys', ['name'], unique=False)
    op.create_index('uq_rtmp_keys_live_name', 'rtmp_keys', ['name'], unique=True,
                    postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade() -> None:
    op.drop_index('uq_rtmp_keys_live_name', table_name='rtmp_keys')
    op.drop_index('ix_rtmp_keys_name', table_name='rtmp_keys')
    op.drop_index(op.f('ix_rtmp_keys_user_id'), table_name='rtmp_keys')
    op.drop_table('rtmp_keys')
