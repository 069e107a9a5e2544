"""Video walls: a wall is a named group of monitors; a monitor is a browser in kiosk mode
showing ``/wall/<wall>/<monitor>`` with its own display credential.

A monitor's content is stored as a small grid (``{"grid", "cells", "tours", "source"}``),
whatever was pushed (a camera, a layout, a tour), together with the camera ids it may show:
the display credential opens video of those cameras and of no other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base, JsonType


class VideoWall(Base):
    __tablename__ = "video_walls"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class WallMonitor(Base):
    __tablename__ = "wall_monitors"
    __table_args__ = (
        UniqueConstraint("wall_id", "name", name="uq_wall_monitors_wall_name"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wall_id: Mapped[int] = mapped_column(
        ForeignKey("video_walls.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(default=0)
    # The display credential: SHA-256 of the secret (shown once), and a random id that every
    # display token names (its ``fam`` claim): a new credential or a revocation changes it.
    key_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    key_created_at: Mapped[datetime | None] = mapped_column(default=None)
    # {"grid": 1|4|9|16, "cells": [...], "tours": [...], "source": {"kind", "id", "name"}}
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    camera_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    pushed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    pushed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Alert kinds (comma-separated, "*" for any) whose camera is pushed here when raised.
    alarm_kinds: Mapped[str] = mapped_column(String(512), default="")
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
