"""Announcing finished segments on ``argus:segments`` (the index is built from these).

Segments reach this queue only after they are durable on disk. While Redis is down the
queue holds them and retries; if the process dies first, the files are orphans that the
next start-up reconcile announces.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from argus_common.bus import RedisBus
from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_common.retry import Backoff, retry_until_done
from argus_recording.metrics import ANNOUNCE_BACKLOG, SEGMENTS
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.announce")
_RETRY_S = 1.0


def to_message(segment: ClosedSegment) -> SegmentClosed:
    """The ``SegmentClosed`` message of a finished segment."""
    return SegmentClosed(
        camera_id=segment.camera_id,
        path=segment.relpath,
        start=datetime.fromtimestamp(segment.start_ms / 1000, UTC),
        end=datetime.fromtimestamp(segment.end_ms / 1000, UTC),
        duration=round(segment.duration_s, 3),
        bytes=segment.bytes,
        kind="event" if segment.kind == "event" else "continuous",
        codec=segment.codec[:16],
        width=segment.width,
        height=segment.height,
        has_audio=segment.has_audio,
    )


class Announcer:
    """An in-order queue of segments to announce, drained by ``run``."""

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus
        self._queue: asyncio.Queue[ClosedSegment] = asyncio.Queue()

    def submit(self, segment: ClosedSegment) -> None:
        """Queue a finished segment (call on the loop's thread)."""
        self._queue.put_nowait(segment)
        ANNOUNCE_BACKLOG.set(self._queue.qsize())

    async def announce(self, segment: ClosedSegment) -> None:
        """Announce now, retrying until Redis takes it."""
        message = to_message(segment)

        async def add() -> None:
            await self.bus.add(STREAM_SEGMENTS, message)

        await retry_until_done(add, event="announce_failed", backoff=Backoff(steps=[_RETRY_S]),
                               log=log, path=segment.relpath)
        SEGMENTS.labels(str(segment.camera_id), message.kind).inc()
        log.info("segment_closed", camera_id=segment.camera_id, path=segment.relpath,
                 duration_s=message.duration, bytes=segment.bytes, kind=message.kind)

    async def run(self) -> None:
        while True:
            segment = await self._queue.get()
            await self.announce(segment)
            self._queue.task_done()
            ANNOUNCE_BACKLOG.set(self._queue.qsize())

    async def drain(self, timeout_s: float) -> None:
        """Wait until everything queued is announced (at shutdown)."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout_s)
        except TimeoutError:
            log.warning("announce_backlog_left", pending=self._queue.qsize())
