"""The append-only audit log (a trigger refuses UPDATE and DELETE), hash-chained.

Each row carries ``prev_hash``, the ``row_hash`` of the row chained before it, and its own
``row_hash`` (``chain.py``); ``audit_chain`` holds the head of the chain and serializes
appends. ``audit_throttle`` counts floodable anonymous rows between the ones it writes
(``throttle.py``); it is working state, not part of the trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base

HASH_LENGTH = 64  # hex SHA-256


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_ts", "ts"),
        Index("ix_audit_log_user_id", "user_id"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("uq_audit_log_dedupe_key", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(server_default=func.now())
    # No foreign key: the trail outlives the users it names.
    user_id: Mapped[int | None] = mapped_column()
    username: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[str] = mapped_column(String(16), default="success")  # success|failure|denied
    # What makes a row written from an at-least-once source unique (``video:<id>:end``):
    # a redelivery finds it and writes nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    prev_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    row_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))


class AuditChain(Base):
    """The head of the chain: one row (id 1), updated by every append under its row lock."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    appends: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditThrottle(Base):
    """Per (action, result, address): the minute of the last row written and how many
    events were counted since without a row of their own."""

    __tablename__ = "audit_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger)  # minutes since the epoch
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    sample: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the latest counted event
