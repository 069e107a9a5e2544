"""Off-site copy jobs: what was asked (an export's bundle, or what a hold protects), by
whom, where the job stands and, once done, where the copy went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from argus_management.db import Base


class OffsiteCopy(Base):
    """One copy job. Claimed by a runner like an export job (``state`` running,
    ``heartbeat_at`` renewed); a running job whose heartbeat stopped (management restarted)
    is claimed again and copies again (the same keys are overwritten)."""

    __tablename__ = "offsite_copies"
    __table_args__ = (
        Index("ix_offsite_copies_state", "state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # export | hold
    target_id: Mapped[int] = mapped_column()
    # An event hold's padding (seconds before and after the event)
    pre_s: Mapped[float] = mapped_column(default=30.0)
    post_s: Mapped[float] = mapped_column(default=30.0)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(512), default=None)
    runner: Mapped[str | None] = mapped_column(String(128), default=None)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    requested_by_name: Mapped[str | None] = mapped_column(String(64), default=None)
    requested_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    requested_ua: Mapped[str | None] = mapped_column(String(256), default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    bucket: Mapped[str | None] = mapped_column(String(255), default=None)
    folder: Mapped[str | None] = mapped_column(String(1024), default=None)
    objects: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    missing: Mapped[int] = mapped_column(default=0)
