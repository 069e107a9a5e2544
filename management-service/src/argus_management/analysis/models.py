"""Analysis results persisted from the ``argus:analysis`` stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class AnalysisResult(Base):
    __tablename__ = "analysis_results"
    # One row per (session, frame time, kind): a redelivered stream entry is stored once.
    __table_args__ = (
        Index("uq_analysis_results_entry", "session_id", "timestamp", "event", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AnalysisJob(Base):
    """A motion analysis of files, run by ai-analysis-service (``argus:analysis_jobs``).

    ``id`` is also the ``session_id`` of its rows in ``analysis_results``. A recorded
    range names ``camera_id`` with ``range_start``/``range_end``; an upload keeps the file
    under ``ARGUS_DATA_DIR/analysis_uploads`` (``upload_path``, relative to the data
    directory) until the job is finished.
    """

    __tablename__ = "analysis_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # recording | upload
    range_start: Mapped[datetime | None] = mapped_column(default=None)
    range_end: Mapped[datetime | None] = mapped_column(default=None)
    upload_name: Mapped[str | None] = mapped_column(String(255), default=None)
    upload_path: Mapped[str | None] = mapped_column(String(512), default=None)
    upload_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    frames: Mapped[int] = mapped_column(BigInteger, default=0)
    motion_frames: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(512), default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
