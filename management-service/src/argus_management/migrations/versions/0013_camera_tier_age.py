"""cameras.tier_after_hours: a camera's own tiering age (null: the recorder's default)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a plain ALTER on SQLite and PostgreSQL; every camera keeps the
    # recorder's RECORDING_TIER_* ages until one is set.
    op.add_column('cameras', sa.Column('tier_after_hours', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cameras') as batch:
        batch.drop_column('tier_after_hours')
