"""A guard tour: presets and dwell times of one PTZ camera, visited in a loop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class GuardTour(Base):
    __tablename__ = "ptz_guard_tours"
    __table_args__ = (
        UniqueConstraint("camera_id", "name", name="uq_ptz_guard_tours_camera_name"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    # {"steps": [{"preset": "<token>", "dwell_s": 10.0}, ...]}, visited in order, then again.
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
