"""exports (evidence export jobs), holds (legal holds), permission recordings:hold,
index of live segments for the summary timeline

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = sa.DateTime(timezone=True)
# Frozen: the permission this revision adds and the roles it is given to.
HOLD = ('recordings:hold', 'Put recordings, events and exports on legal hold, and release them')
HOLD_ROLES = ('admin', 'operator')


def upgrade() -> None:
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=1024), nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('range_start', TS, nullable=False),
    sa.Column('range_end', TS, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('bytes_done', sa.BigInteger(), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.String(length=512), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=64), nullable=True),
    sa.Column('created_ip', sa.String(length=64), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('started_at', TS, nullable=True),
    sa.Column('heartbeat_at', TS, nullable=True),
    sa.Column('finished_at', TS, nullable=True),
    sa.Column('runner', sa.String(length=128), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_bytes', sa.BigInteger(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.Column('files', JSON, nullable=False),
    sa.Column('expires_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exports_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports')),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_exports_state', 'exports', ['state'], unique=False)
    op.create_index('ix_exports_created_by', 'exports', ['created_by'], unique=False)
    op.create_table('holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('export_id', sa.Integer(), nullable=True),
    sa.Column('range_start', TS, nullable=True),
    sa.Column('range_end', TS, nullable=True),
    sa.Column('reason', sa.String(length=1024), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=64), nullable=True),
    sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
    sa.Column('released_at', TS, nullable=True),
    sa.Column('released_by_name', sa.String(length=64), nullable=True),
    sa.Column('release_reason', sa.String(length=1024), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_holds_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds')),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_holds_active_camera', 'holds', ['released_at', 'camera_id'], unique=False)
    op.create_index('ix_holds_event_id', 'holds', ['event_id'], unique=False)
    op.create_index('ix_holds_export_id', 'holds', ['export_id'], unique=False)
    # The summary timeline reads (camera, start, end) of live segments in index order,
    # from the index alone on PostgreSQL (recordings/timeline.py).
    op.create_index('ix_recording_segments_live', 'recording_segments',
                    ['camera_id', 'started_at'], unique=False,
                    postgresql_include=['ended_at'],
                    postgresql_where=sa.text('deleted_at IS NULL'),
                    sqlite_where=sa.text('deleted_at IS NULL'))
    _seed_hold_permission()


def _seed_hold_permission() -> None:
    perms = sa.table('permissions', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('description', sa.String))
    op.execute(perms.insert().values(name=HOLD[0], description=HOLD[1]))
    roles = ", ".join(f"'{r}'" for r in HOLD_ROLES)
    op.execute(
        "INSERT INTO role_permissions (role_id, permission_id) "
        f"SELECT r.id, p.id FROM roles r, permissions p WHERE p.name = '{HOLD[0]}' "
        f"AND r.name IN ({roles})"
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM role_permissions WHERE permission_id IN "
        f"(SELECT id FROM permissions WHERE name = '{HOLD[0]}')"
    )
    op.execute(f"DELETE FROM permissions WHERE name = '{HOLD[0]}'")
    op.drop_index('ix_recording_segments_live', table_name='recording_segments')
    op.drop_index('ix_holds_export_id', table_name='holds')
    op.drop_index('ix_holds_event_id', table_name='holds')
    op.drop_index('ix_holds_active_camera', table_name='holds')
    op.drop_table('holds')
    op.drop_index('ix_exports_created_by', table_name='exports')
    op.drop_index('ix_exports_state', table_name='exports')
    op.drop_table('exports')
