"""ids never reused on SQLite (AUTOINCREMENT), deleted_cameras

SQLite without AUTOINCREMENT hands the highest id out again once its row is deleted: a new
camera inherited a deleted camera's recordings, grants and events (and a new user a
deleted user's audit trail). The tables whose ids other rows or files name are rebuilt
with AUTOINCREMENT (batch mode; env.py turns foreign keys off around migrations so the
rebuild cascades nothing). PostgreSQL sequences never go back: nothing to do there.

The cameras counter starts above every camera id still named by recordings, so cameras
deleted before this migration cannot have their id handed out again either.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('users', 'camera_groups', 'cameras', 'events', 'alerts')


def _rebuild(autoincrement: bool) -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass


def upgrade() -> None:
    op.create_table('deleted_cameras',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('deleted_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deleted_cameras'))
    )
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    _rebuild(True)
    floor = bind.execute(sa.text(
        'SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM cameras '
        'UNION ALL SELECT MAX(camera_id) FROM recording_segments '
        'UNION ALL SELECT MAX(id) FROM deleted_cameras)'
    )).scalar()
    if floor:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'cameras'"))
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('cameras', :n)"),
            {'n': int(floor)},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(False)
    op.drop_table('deleted_cameras')
