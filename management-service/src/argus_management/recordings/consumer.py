"""The ``argus:segments`` consumer: indexes every segment recording-service announces."""

from __future__ import annotations

import os
import socket
from typing import Any

import structlog
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.events import SEGMENTS_GROUP, STREAM_SEGMENTS, SegmentClosed
from argus_common.retry import Backoff, keep_running
from argus_management.recordings.service import InvalidSegment, index_segment

log = structlog.get_logger("argus.recordings.consumer")

SEGMENTS_INDEXED = Counter(
    "argus_segments_indexed_total", "Announced segments by outcome", ["outcome"]
)
_RETRY_S = 2.0


def make_handler(maker: async_sessionmaker[AsyncSession]) -> Any:
    """The stream handler: insert the row (idempotent); a malformed entry is logged and
    acked, since retrying it could never succeed."""

    async def handle(entry_id: str, data: dict[str, Any]) -> None:
        try:
            msg = SegmentClosed.model_validate(data)
        except ValidationError as exc:
            SEGMENTS_INDEXED.labels("invalid").inc()
            log.warning("segment_message_invalid", entry_id=entry_id, errors=exc.error_count())
            return
        async with maker() as session:
            try:
                created = await index_segment(session, msg)
            except InvalidSegment as exc:
                SEGMENTS_INDEXED.labels("invalid").inc()
                log.warning("segment_refused", entry_id=entry_id, reason=str(exc))
                return
            await session.commit()
        SEGMENTS_INDEXED.labels("new" if created else "duplicate").inc()

    return handle


async def run_segment_consumer(bus: RedisBus, maker: async_sessionmaker[AsyncSession]) -> None:
    """Consume ``argus:segments`` in group ``management`` until cancelled (each worker
    process is one consumer of the group; Redis outages are waited out)."""
    handler = make_handler(maker)
    consumer = f"{socket.gethostname()}-{os.getpid()}"

    async def consume() -> None:
        # From the start of the stream: nothing announced before this group existed is
        # lost (the recorder creates the group the same way).
        await bus.ensure_group(STREAM_SEGMENTS, SEGMENTS_GROUP, start="0")
        # Entries that failed (the database away) are retried by this consumer every
        # 0.5 s doubling to _RETRY_S, not left to the group's idle-time reclaim.
        await bus.consume(
            STREAM_SEGMENTS, SEGMENTS_GROUP, consumer, handler, retry=Backoff(0.5, _RETRY_S)
        )

    await keep_running(
        consume, event="segment_consumer_error", log=log, backoff=Backoff(steps=[_RETRY_S])
    )
