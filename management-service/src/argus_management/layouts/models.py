"""Saved live-view layouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class Layout(Base):
    __tablename__ = "layouts"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_layouts_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    grid: Mapped[int] = mapped_column(default=4)  # 1, 4, 9 or 16 cells
    # {"cells": [camera_id | null, ...]} — one entry per cell
    cells: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
