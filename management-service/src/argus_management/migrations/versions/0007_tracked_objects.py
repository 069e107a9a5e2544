"""objects: tracked_objects (one row per analyser track) and tracked_object_places

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('tracked_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dwell_s', sa.Double(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('mean_score', sa.Double(), nullable=True),
    sa.Column('color', sa.String(length=16), nullable=True),
    sa.Column('box', JSON, nullable=False),
    sa.Column('zones', JSON, nullable=False),
    sa.Column('lines', JSON, nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=True),
    sa.Column('speed', sa.Double(), nullable=True),
    sa.Column('path', JSON, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('snapshot_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended', sa.Boolean(), nullable=False),
    sa.Column('reviewed', sa.Boolean(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_tracked_objects_camera_id_cameras'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_tracked_objects_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_tracked_objects_reviewed_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_objects')),
    sa.UniqueConstraint('camera_id', 'track_id', name='uq_tracked_objects_camera_track'),
    sqlite_autoincrement=True,
    )
    # The search: label + camera (+ colour) + time, camera + time, colour + time, time alone.
    op.create_index('ix_tracked_objects_label_camera_first', 'tracked_objects', ['label', 'camera_id', 'first_seen'])
    op.create_index('ix_tracked_objects_label_camera_color_first', 'tracked_objects', ['label', 'camera_id', 'color', 'first_seen'])
    op.create_index('ix_tracked_objects_camera_first', 'tracked_objects', ['camera_id', 'first_seen'])
    op.create_index('ix_tracked_objects_color_first', 'tracked_objects', ['color', 'first_seen'])
    op.create_index('ix_tracked_objects_first_seen', 'tracked_objects', ['first_seen'])
    # The review queue.
    op.create_index('ix_tracked_objects_camera_reviewed_first', 'tracked_objects', ['camera_id', 'reviewed', 'first_seen'])
    op.create_table('tracked_object_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['tracked_objects.id'], name=op.f('fk_tracked_object_places_object_id_tracked_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_object_places')),
    sa.UniqueConstraint('object_id', 'kind', 'name', name='uq_tracked_object_places_entry'),
    )
    op.create_index('ix_tracked_object_places_camera_place', 'tracked_object_places', ['camera_id', 'kind', 'name'])


def downgrade() -> None:
    op.drop_index('ix_tracked_object_places_camera_place', table_name='tracked_object_places')
    op.drop_table('tracked_object_places')
    for name in ('ix_tracked_objects_camera_reviewed_first', 'ix_tracked_objects_first_seen',
                 'ix_tracked_objects_color_first', 'ix_tracked_objects_camera_first',
                 'ix_tracked_objects_label_camera_color_first',
                 'ix_tracked_objects_label_camera_first'):
        op.drop_index(name, table_name='tracked_objects')
    op.drop_table('tracked_objects')
