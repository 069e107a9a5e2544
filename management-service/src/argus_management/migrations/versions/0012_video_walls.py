"""video_walls and wall_monitors (display credentials, pushed content, alarm kinds);
permissions walls:view, walls:control, walls:manage (issue 20)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = sa.DateTime(timezone=True)
# Frozen: the permissions this revision adds and the roles they are given to.
PERMISSIONS = (
    ('walls:view', 'See video walls and what their monitors show', ('admin', 'operator')),
    ('walls:control', 'Push cameras, layouts and tours to wall monitors', ('admin', 'operator')),
    ('walls:manage', 'Create walls and monitors, manage display credentials', ('admin',)),
)


def upgrade() -> None:
    op.create_table(
        'video_walls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_video_walls')),
        sa.UniqueConstraint('name', name=op.f('uq_video_walls_name')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'wall_monitors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wall_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=True),
        sa.Column('key_id', sa.String(length=32), nullable=True),
        sa.Column('key_created_at', TS, nullable=True),
        sa.Column('content', JSON, nullable=False),
        sa.Column('camera_ids', JSON, nullable=False),
        sa.Column('pushed_by', sa.String(length=128), nullable=True),
        sa.Column('pushed_at', TS, nullable=True),
        sa.Column('alarm_kinds', sa.String(length=512), nullable=False),
        sa.Column('last_seen', TS, nullable=True),
        sa.Column('created_at', TS, server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['wall_id'], ['video_walls.id'],
                                name=op.f('fk_wall_monitors_wall_id_video_walls'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wall_monitors')),
        sa.UniqueConstraint('wall_id', 'name', name='uq_wall_monitors_wall_name'),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_wall_monitors_wall_id'), 'wall_monitors', ['wall_id'],
                    unique=False)
    perms = sa.table('permissions', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('description', sa.String))
    for name, description, roles in PERMISSIONS:
        op.execute(perms.insert().values(name=name, description=description))
        op.get_bind().execute(
            sa.text(
                "INSERT INTO role_permissions (role_id, permission_id) "
                "SELECT r.id, p.id FROM roles r, permissions p WHERE p.name = :name "
                "AND r.name IN :roles"
            ).bindparams(sa.bindparam("roles", expanding=True)),
            {"name": name, "roles": list(roles)},
        )

def downgrade() -> None:
    bind = op.get_bind()
    for name, _, _ in PERMISSIONS:
        bind.execute(sa.text(
            "DELETE FROM role_permissions WHERE permission_id IN "
            "(SELECT id FROM permissions WHERE name = :name)"), {"name": name})
        bind.execute(sa.text("DELETE FROM permissions WHERE name = :name"), {"name": name})
    op.drop_index(op.f('ix_wall_monitors_wall_id'), table_name='wall_monitors')
    op.drop_table('wall_monitors')
    op.drop_table('video_walls')
