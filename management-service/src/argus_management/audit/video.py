"""Video access in the audit log: who watched which camera, live or which range, from
where, for how long.

streaming-service reports each viewing session on the ``argus:audit`` stream
(``VideoAccess``: a ``start`` and an ``end`` with the same ``session_id``); the consumer
here writes one row per message in management's group, idempotently (``dedupe_key``
``video:<session id>:<phase>``), so a redelivery after a crash writes nothing twice and a
management restart loses nothing (the entries wait in the stream). Access served by
management itself (event snapshots; exports once they exist) is written in the request's
transaction with :func:`record_access`.

Rows: action ``video.start`` / ``video.end`` (``video.snapshot`` for a single access),
target ``camera``/<id>, ``summary.kind`` live | playback | hls | vod | snapshot | export.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.events import AUDIT_GROUP, STREAM_AUDIT, VideoAccess, VideoKind
from argus_common.retry import Backoff, keep_running
from argus_management.audit.models import AuditEntry
from argus_management.audit.service import add_at_commit, entry
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.audit.video")

VIDEO_ROWS = Counter("argus_audit_video_rows_total", "Video access reports by outcome",
                     ["outcome"])
_RETRY_S = 2.0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary_of(msg: VideoAccess) -> dict[str, Any]:
    """The row's summary: the session, its span, and the recorded range if any."""
    out: dict[str, Any] = {"kind": msg.kind, "session_id": msg.session_id,
                           "started_at": _iso(msg.started_at), "service": msg.service}
    if msg.stream:
        out["stream"] = msg.stream
    if msg.range_start is not None or msg.range_end is not None:
        out["range_start"], out["range_end"] = _iso(msg.range_start), _iso(msg.range_end)
    if msg.phase == "end":
        out["ended_at"] = _iso(msg.ended_at)
        out["duration_s"] = round(msg.duration_s or 0.0, 3)
        if msg.reason:
            out["reason"] = msg.reason
    return out


async def store(session: AsyncSession, msg: VideoAccess) -> bool:
    """Add the row of ``msg`` unless it was stored before; True when added (flushed, not
    committed)."""
    key = f"video:{msg.session_id}:{msg.phase}"
    if await session.scalar(select(AuditEntry.id).where(AuditEntry.dedupe_key == key)):
        return False
    username = msg.username
    if username is None and msg.user_id is not None:
        username = await session.scalar(select(User.username).where(User.id == msg.user_id))
    actor = Actor(user_id=msg.user_id, username=username, ip=msg.client_ip,
                  user_agent=msg.user_agent)
    at = msg.ended_at if msg.phase == "end" and msg.ended_at else msg.started_at
    session.add(entry(actor, f"video.{msg.phase}", "camera", msg.camera_id, summary_of(msg),
                      "success", ts=at, dedupe_key=key))
    await session.flush()
    return True


def make_handler(maker: async_sessionmaker[AsyncSession]) -> Any:
    """The stream handler: a malformed entry is logged and acked (it can never succeed)."""

    async def handle(entry_id: str, data: dict[str, Any]) -> None:
        try:
            msg = VideoAccess.model_validate(data)
        except ValidationError as exc:
            VIDEO_ROWS.labels("invalid").inc()
            log.warning("video_access_invalid", entry_id=entry_id, errors=exc.error_count())
            return
        async with maker() as session:
            try:
                added = await store(session, msg)
                await session.commit()
            except IntegrityError:  # another consumer stored the same report just now
                await session.rollback()
                added = False
        VIDEO_ROWS.labels("new" if added else "duplicate").inc()

    return handle


async def run_video_audit_consumer(
    bus: RedisBus, maker: async_sessionmaker[AsyncSession]
) -> None:
    """Consume ``argus:audit`` in group ``management`` until cancelled (each worker process
    is one consumer of the group; Redis outages are waited out)."""
    handler = make_handler(maker)
    consumer = f"{socket.gethostname()}-{os.getpid()}"

    async def consume() -> None:
        # From the start: reports made while no management ever ran are not lost.
        await bus.ensure_group(STREAM_AUDIT, AUDIT_GROUP, start="0")
        await bus.consume(STREAM_AUDIT, AUDIT_GROUP, consumer, handler)

    await keep_running(consume, event="video_audit_consumer_error", log=log,
                       backoff=Backoff(steps=[_RETRY_S]))


async def record_access(
    session: AsyncSession, actor: Actor, kind: VideoKind, camera_id: int | None,
    range_start: datetime | None = None, range_end: datetime | None = None,
    **details: Any,
) -> None:
    """One row for a single access served by management itself (a snapshot; an export,
    once built: call this when the export is handed out), in the request's transaction."""
    summary: dict[str, Any] = {"kind": kind, **details}
    if range_start is not None or range_end is not None:
        summary["range_start"], summary["range_end"] = _iso(range_start), _iso(range_end)
    add_at_commit(session, entry(actor, f"video.{kind}", "camera", camera_id, summary,
                                 "success"))
