"""Export jobs: what was asked, by whom and why, where the job stands, and the bundle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base, JsonType


class Export(Base):
    """One export job and, once done, its bundle under ``ARGUS_DATA_DIR/exports/``.

    ``items`` are the ranges to export, one per camera and range:
    ``{"camera_id", "start", "end", "event_id"?}`` (ISO times). The job is claimed by a
    runner (``state`` running, ``heartbeat_at`` renewed); a running job whose heartbeat
    stopped (management restarted) is claimed again and starts over.
    """

    __tablename__ = "exports"
    __table_args__ = (
        Index("ix_exports_state", "state"),
        Index("ix_exports_created_by", "created_by"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(1024))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    range_start: Mapped[datetime] = mapped_column()
    range_end: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    progress: Mapped[float] = mapped_column(default=0.0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(String(512), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_by_name: Mapped[str | None] = mapped_column(String(64), default=None)
    created_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    runner: Mapped[str | None] = mapped_column(String(128), default=None)
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)
    file_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # Per camera: file name, sha256, bytes, actual range, frames, gaps (see bundle.py).
    files: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
