"""audit: hash chain (prev_hash, row_hash, audit_chain), dedupe key, anonymous throttle

Existing rows are chained here, in id order, with the same serialization the app uses
(``argus_management.audit.chain``). Chaining them means writing to a table whose triggers
refuse UPDATE: the triggers are set aside for that one statement per row and put back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from argus_management.audit.chain import GENESIS, row_hash

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 1000
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): SQLite keeps the table, and with it the triggers.
    op.add_column('audit_log', sa.Column('dedupe_key', sa.String(length=128), nullable=True))
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('row_hash', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_log_dedupe_key', 'audit_log', ['dedupe_key'], unique=True)
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('appends', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    op.create_table('audit_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window', sa.BigInteger(), nullable=False),
    sa.Column('suppressed', sa.Integer(), nullable=False),
    sa.Column('sample', JSON, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_audit_throttle'))
    )
    head, count = _chain_existing()
    op.execute(sa.text("INSERT INTO audit_chain (id, head_hash, appends) VALUES (1, :h, :n)")
               .bindparams(h=head, n=count))


def _chain_existing() -> tuple[str, int]:
    """Hash every existing row in id order; returns the head and the number of rows."""
    bind = op.get_bind()
    table = sa.table(
        'audit_log', sa.column('id', sa.Integer), sa.column('ts', sa.DateTime(timezone=True)),
        sa.column('user_id', sa.Integer), sa.column('username', sa.String),
        sa.column('ip', sa.String), sa.column('user_agent', sa.String),
        sa.column('action', sa.String), sa.column('target_type', sa.String),
        sa.column('target_id', sa.String), sa.column('summary', JSON),
        sa.column('result', sa.String), sa.column('dedupe_key', sa.String),
        sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String),
    )
    _triggers(enable=False)
    head, count, last = GENESIS, 0, 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id)
                            .limit(_PAGE)).all()
        for row in rows:
            digest = row_hash(row, head)
            bind.execute(table.update().where(table.c.id == row.id)
                         .values(prev_hash=head, row_hash=digest))
            head, count = digest, count + 1
        if len(rows) < _PAGE:
            break
        last = rows[-1].id
    _triggers(enable=True)
    return head, count


def _triggers(*, enable: bool) -> None:
    """Set the append-only triggers aside (``enable=False``) or put them back."""
    if _pg():
        verb = 'ENABLE' if enable else 'DISABLE'
        op.execute(f'ALTER TABLE audit_log {verb} TRIGGER audit_log_no_change')
        return
    if enable:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')


def downgrade() -> None:
    op.drop_table('audit_throttle')
    op.drop_table('audit_chain')
    op.drop_index('uq_audit_log_dedupe_key', table_name='audit_log')
    # SQLite drops columns by rebuilding the table, which loses its triggers: set them
    # aside and put them back around it.
    if not _pg():
        _triggers(enable=False)
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('row_hash')
        batch.drop_column('prev_hash')
        batch.drop_column('dedupe_key')
    if not _pg():
        _triggers(enable=True)
