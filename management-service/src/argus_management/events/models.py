"""Events reported by the media services, management itself, or operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_camera_started", "camera_id", "started_at"),
        Index("ix_events_type", "type"),
        {"sqlite_autoincrement": True},  # ids never reused (migration 0006)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message id of the reporter: a redelivered event is stored once.
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot_path: Mapped[str | None] = mapped_column(String(512))
    kept: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
