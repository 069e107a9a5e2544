"""The cameras table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class Camera(Base):
    __tablename__ = "cameras"
    # AUTOINCREMENT on SQLite: ids are never reused (migration 0006; see recordings/models.py).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="rtsp")  # rtsp | onvif | rtmp
    stream_url: Mapped[str] = mapped_column(String(2048))  # never holds userinfo
    sub_stream_url: Mapped[str | None] = mapped_column(String(2048))
    username: Mapped[str | None] = mapped_column(String(128))
    # Fernet token of the password (key derived from SECRET_KEY); never returned.
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    onvif_host: Mapped[str | None] = mapped_column(String(255))
    onvif_port: Mapped[int | None] = mapped_column()
    has_ptz: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    recording_mode: Mapped[str] = mapped_column(String(16), default="continuous")
    retention_days: Mapped[int] = mapped_column(default=30)
    # Segments older than this many hours move to the object store; None: the recorder's
    # RECORDING_TIER_CAMERAS / RECORDING_TIER_AFTER_HOURS (migration 0013).
    tier_after_hours: Mapped[float | None] = mapped_column(default=None)
    analysis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    connect_timeout_s: Mapped[float] = mapped_column(default=5.0)
    read_timeout_s: Mapped[float] = mapped_column(default=3.0)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DeletedCamera(Base):
    """A deleted camera, kept so its recordings stay accounted for.

    Deleting a camera does not delete its recordings: they keep the deleted camera's id
    (never given to another camera: ids are AUTOINCREMENT on SQLite and sequences on
    PostgreSQL), stay visible to administrators (``cameras:write``) on the timeline, and are
    purged by retention after ``retention_days``, the camera's setting when it was deleted.
    """

    __tablename__ = "deleted_cameras"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the camera's id
    name: Mapped[str] = mapped_column(String(128))
    retention_days: Mapped[int] = mapped_column(default=30)
    deleted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # No foreign key: the record outlives the user who deleted the camera.
    deleted_by: Mapped[int | None] = mapped_column(default=None)
