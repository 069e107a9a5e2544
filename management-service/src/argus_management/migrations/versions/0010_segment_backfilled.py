"""recording_segments.backfilled: segments restored from a camera's own storage (ANR)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing segment was recorded live; a constant default keeps ADD COLUMN a plain
    # ALTER on both SQLite and PostgreSQL (no table rewrite).
    op.add_column('recording_segments', sa.Column(
        'backfilled', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('recording_segments') as batch:
        batch.drop_column('backfilled')
