"""The recording index: one row per segment file written by recording-service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, false, func, text
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class RecordingSegment(Base):
    """A segment file under ``RECORDINGS_DIR`` (``path`` is relative to it).

    ``camera_id`` carries no foreign key on purpose: recordings outlive a deleted camera
    until retention removes them, so files never become invisible to the purge.
    Deletion goes in three steps (see recordings/internal_router.py): the row is marked
    (``deleted_at``, it leaves the timeline at once), the recorder unlinks the file and
    fsyncs the directory, then the row is removed.
    """

    __tablename__ = "recording_segments"
    __table_args__ = (
        Index("ix_recording_segments_camera_start", "camera_id", "started_at"),
        Index("ix_recording_segments_started_at", "started_at"),
        Index("ix_recording_segments_deleted_at", "deleted_at"),
        # Live segments in time order with their ends: the summary timeline (0008).
        Index("ix_recording_segments_live", "camera_id", "started_at",
              postgresql_include=["ended_at"], postgresql_where=text("deleted_at IS NULL"),
              sqlite_where=text("deleted_at IS NULL")),
        Index("ix_recording_segments_tier", "tier", "camera_id", "ended_at"),  # 0009
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column()
    path: Mapped[str] = mapped_column(String(512), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="continuous")  # continuous | event
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime] = mapped_column()
    duration_s: Mapped[float] = mapped_column(default=0.0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    codec: Mapped[str] = mapped_column(String(16), default="")
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    has_audio: Mapped[bool] = mapped_column(default=False)
    # Set by exports (and operators): never removed by retention or the disk guard.
    kept: Mapped[bool] = mapped_column(default=False)
    # Restored after an outage from the camera's own storage (ONVIF Profile G), 0010.
    backfilled: Mapped[bool] = mapped_column(default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # ``local``: the file under RECORDINGS_DIR; ``object``: moved to the object store as
    # ``object_key`` (recording-service ``tiering/``; the local file is gone or going).
    tier: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    object_key: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
