"""The ``rtmp_keys`` table: stream keys that let a user's phone publish over RTMP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base

# A key is "live" until revoked; its name is unique among live keys only, so a name can be
# used again once its key is revoked. Partial indexes exist on PostgreSQL and SQLite alike.
LIVE = text("revoked_at IS NULL")


class StreamKey(Base):
    """One stream key. The secret itself is never stored: only its SHA-256 (a random
    192-bit token needs no slow hash; nothing can be guessed from a fast one)."""

    __tablename__ = "rtmp_keys"
    __table_args__ = (
        Index(
            "uq_rtmp_keys_live_name", "name", unique=True,
            postgresql_where=LIVE, sqlite_where=LIVE,
        ),
        Index("ix_rtmp_keys_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    # The camera this key's pushes are recorded under (kept when the camera is deleted: a
    # new one is registered at the next publish).
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
