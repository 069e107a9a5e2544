"""Tracked objects: one row per track an analyser reported (``object.*`` events).

A row is created by a track's first zone or line event and completed by its ``object.track``
summary (``ended``). ``zones``/``lines`` are kept twice on purpose: as JSON on the row for
the answer, and as ``tracked_object_places`` rows, which the search filters on through an
index on PostgreSQL and SQLite alike (neither arrays nor JSON containment are portable).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base, JsonType


class TrackedObject(Base):
    __tablename__ = "tracked_objects"
    __table_args__ = (
        UniqueConstraint("camera_id", "track_id", name="uq_tracked_objects_camera_track"),
        # The search: label + camera + time range (dwell, score filtered on it); with a
        # colour, its own index answers from ~a hundred entries instead of a day's objects
        # (bench/search_bench.py: 0.1 ms against 20 ms at 1,000,000 objects).
        Index("ix_tracked_objects_label_camera_first", "label", "camera_id", "first_seen"),
        Index("ix_tracked_objects_label_camera_color_first", "label", "camera_id", "color",
              "first_seen"),
        Index("ix_tracked_objects_camera_first", "camera_id", "first_seen"),
        Index("ix_tracked_objects_color_first", "color", "first_seen"),
        Index("ix_tracked_objects_first_seen", "first_seen"),
        # The review queue: a camera's unreviewed objects, newest first.
        Index("ix_tracked_objects_camera_reviewed_first", "camera_id", "reviewed", "first_seen"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    track_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column()
    last_seen: Mapped[datetime] = mapped_column()
    dwell_s: Mapped[float] = mapped_column(default=0.0)
    score: Mapped[float] = mapped_column(default=0.0)  # the highest detector score
    mean_score: Mapped[float | None] = mapped_column(default=None)
    color: Mapped[str | None] = mapped_column(String(16), default=None)
    # Normalized {x, y, w, h} in the snapshot of ``event_id``.
    box: Mapped[dict[str, Any]] = mapped_column(default=dict)
    zones: Mapped[list[str]] = mapped_column(JsonType, default=list)
    lines: Mapped[list[str]] = mapped_column(JsonType, default=list)
    direction: Mapped[str | None] = mapped_column(String(16), default=None)
    speed: Mapped[float | None] = mapped_column(default=None)
    # [[t_s since first seen, cx, cy], …] (the track summary's, at most 64 points).
    path: Mapped[list[list[float]]] = mapped_column(JsonType, default=list)
    # The event whose snapshot shows the object: its best frame once the track ended.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), default=None
    )
    snapshot_ts: Mapped[datetime | None] = mapped_column(default=None)
    ended: Mapped[bool] = mapped_column(default=False)
    reviewed: Mapped[bool] = mapped_column(default=False)
    reviewed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TrackedObjectPlace(Base):
    """A zone an object was in, or a line it crossed (the search's zone/line filters)."""

    __tablename__ = "tracked_object_places"
    __table_args__ = (
        UniqueConstraint("object_id", "kind", "name", name="uq_tracked_object_places_entry"),
        Index("ix_tracked_object_places_camera_place", "camera_id", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ForeignKey("tracked_objects.id", ondelete="CASCADE")
    )
    camera_id: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(8))  # zone | line
    name: Mapped[str] = mapped_column(String(64))
