"""Legal holds on an event, a time range of a camera, or an export."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class Hold(Base):
    """A hold until released: ``kind`` event (``event_id``; its range with pre/post-roll),
    range (``camera_id``, ``range_start``..``range_end``) or export (``export_id``).

    No foreign keys to cameras, events or exports: a hold outlives a deleted camera, and
    its row (with who placed it and why) stays after release as the record of the hold.
    """

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_active_camera", "released_at", "camera_id"),
        Index("ix_holds_event_id", "event_id"),
        Index("ix_holds_export_id", "export_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # event | range | export
    camera_id: Mapped[int | None] = mapped_column(default=None)
    event_id: Mapped[int | None] = mapped_column(default=None)
    export_id: Mapped[int | None] = mapped_column(default=None)
    range_start: Mapped[datetime | None] = mapped_column(default=None)
    range_end: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(1024))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_by_name: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by_name: Mapped[str | None] = mapped_column(String(64), default=None)
    release_reason: Mapped[str | None] = mapped_column(String(1024), default=None)
