"""Announcing finished segments on ``argus:segments`` and posting notices to management,
through the durable outbox (outbox.py).

A segment reaches the outbox only after it is durable on disk; the courier delivers it
whenever Redis answers, in order, and removes the record only then. Notices (events such
as ``stream.down`` and ``disk.low``, and index corrections from the local disk guard) wait
in the same way for management. Nothing is dropped because a dependency is away; a record
is dropped only when its receiver refuses it for good (4xx), or, for a segment, when its
file is gone by then (removed by the disk guard: announcing it would index a missing file).

``argus:segments`` is never trimmed past what management's consumer group has acknowledged
(``trim_acknowledged``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from argus_common.bus import RedisBus
from argus_common.errors import Unavailable
from argus_common.events import STREAM_SEGMENTS, EventMessage, SegmentClosed
from argus_common.management import Refused
from argus_recording.layout import safe_path
from argus_recording.management import RecordingManagement
from argus_recording.metrics import ANNOUNCE_BACKLOG, SEGMENTS
from argus_recording.outbox import Outbox, Record
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.announce")
_IDLE_S = 5.0  # a round even when nobody woke the courier (records left by a failure)
_ORPHANS_S = 30.0
_RETRY_STEPS = (0.5, 1.0, 2.0, 5.0)
TRIM_ABOVE = 100_000  # entries kept at least (the old MAXLEN), acknowledged or not


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
        backfilled=segment.kind == "backfill",
    )


def segment_record(segment: ClosedSegment) -> dict[str, Any]:
    return to_message(segment).model_dump(mode="json")


def event_record(message: EventMessage) -> dict[str, Any]:
    return {"kind": "event", "message": message.model_dump(mode="json")}


def missing_record(camera_id: int, paths: list[str]) -> dict[str, Any]:
    return {"kind": "missing", "camera_id": camera_id, "paths": paths}


class Announcer:
    """Puts records into the outbox and delivers them (``run``)."""

    def __init__(self, bus: RedisBus, outbox: Outbox, management: RecordingManagement,
                 root: Path) -> None:
        self.bus = bus
        self.outbox = outbox
        self.management = management
        self.root = root
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._adopted: list[Outbox] = []
        self._next_orphans = 0.0
        self._delays = {"segments": 0, "notices": 0}
        self._not_before = {"segments": 0.0, "notices": 0.0}
        self.backlog = 0  # records waiting after the last round
        # Told of every segment put into the outbox (any thread): the backfill planner.
        self.listeners: list[Callable[[ClosedSegment], None]] = []

    # -- putting ---------------------------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def wake(self) -> None:
        """Deliver now (thread-safe)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def segment_closed(self, segment: ClosedSegment) -> None:
        """Record a finished segment durably and wake the courier (call off the loop: it
        writes and fsyncs)."""
        self.outbox.put("segments", segment_record(segment))
        for listener in self.listeners:
            listener(segment)
        SEGMENTS.labels(str(segment.camera_id), to_message(segment).kind).inc()
        log.info("segment_closed", camera_id=segment.camera_id, path=segment.relpath,
                 duration_s=round(segment.duration_s, 3), bytes=segment.bytes,
                 kind=segment.kind)
        self.wake()

    async def announce(self, segment: ClosedSegment) -> None:
        """Queue a segment from the loop (reconcile's adopted files)."""
        await asyncio.to_thread(self.outbox.put, "segments", segment_record(segment))
        for listener in self.listeners:
            listener(segment)
        self._wake.set()

    async def notice(self, record: dict[str, Any]) -> None:
        """Queue a notice for management (an event, or paths that left the disk)."""
        await asyncio.to_thread(self.outbox.put, "notices", record)
        self._wake.set()

    # -- delivering ------------------------------------------------------------------------
    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.round()
            except Exception:  # a bug must not stop delivery for good
                log.exception("outbox_round_failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._wait_s()):
                    await self._wake.wait()

    def _wait_s(self) -> float:
        now = time.monotonic()
        later = [t - now for t in self._not_before.values() if t > now]
        return max(0.05, min([_IDLE_S, *later]))

    async def round(self) -> None:
        """One pass over every outbox this process delivers for."""
        if time.monotonic() >= self._next_orphans:
            self._next_orphans = time.monotonic() + _ORPHANS_S
            for adopted in await asyncio.to_thread(self.outbox.orphans):
                log.info("outbox_adopted", directory=adopted.directory.name,
                         pending=await asyncio.to_thread(adopted.count))
                self._adopted.append(adopted)
        for channel, deliver in (("segments", self._segment), ("notices", self._notice)):
            if time.monotonic() < self._not_before[channel]:
                continue
            ok = True
            for box in (*self._adopted, self.outbox):
                ok = await self._drain(box, channel, deliver)
                if not ok:
                    break
            if ok:
                self._delays[channel] = 0
            else:
                step = _RETRY_STEPS[min(self._delays[channel], len(_RETRY_STEPS) - 1)]
                self._delays[channel] += 1
                self._not_before[channel] = time.monotonic() + step
        for adopted in list(self._adopted):
            if await asyncio.to_thread(adopted.remove_if_empty):
                self._adopted.remove(adopted)
        self.backlog = await asyncio.to_thread(self.outbox.count)
        ANNOUNCE_BACKLOG.set(self.backlog)

    async def _drain(self, box: Outbox, channel: str,
                     deliver: Callable[[Record], Awaitable[None]]) -> bool:
        """Deliver ``box``'s records of ``channel`` in order; False at the first failure."""
        for _ in range(1000):  # bounded: a huge backlog goes on in the next round
            records = await asyncio.to_thread(box.pending, channel)
            if not records:
                return True
            for record in records:
                try:
                    await deliver(record)
                except Refused as exc:
                    log.warning("outbox_record_refused", channel=channel, status=exc.status)
                except (Unavailable, RedisError, OSError, TimeoutError) as exc:
                    # One line when a wait starts, not one per retry.
                    (log.warning if not self._delays[channel] else log.debug)(
                        "outbox_delivery_waiting", channel=channel, error=type(exc).__name__,
                        pending=await asyncio.to_thread(box.count))
                    return False
                await asyncio.to_thread(box.done, record)
        return True

    async def _segment(self, record: Record) -> None:
        relpath = str(record.data.get("path", ""))
        try:
            exists = safe_path(self.root, relpath).exists()
        except ValueError:
            exists = False
        if not exists:
            log.warning("announce_skipped_missing_file", path=relpath)
            return
        message = SegmentClosed.model_validate(record.data)
        # No MAXLEN: only entries management has acknowledged are ever trimmed.
        await self.bus.redis.xadd(self.bus.key(STREAM_SEGMENTS),
                                  {"data": message.model_dump_json()})

    async def _notice(self, record: Record) -> None:
        data = record.data
        if data.get("kind") == "event":
            await self.management.report_event(EventMessage.model_validate(data["message"]))
        elif data.get("kind") == "missing":
            await self.management.forget_missing(int(data["camera_id"]),
                                                 [str(p) for p in data["paths"]])
        else:
            log.warning("outbox_record_unknown", kind=str(data.get("kind"))[:32])

    async def drain(self, timeout_s: float) -> None:
        """Try to deliver everything before shutdown; what is left stays on disk for the
        next start (or another recorder) to deliver. Gives up early when nothing moves."""
        deadline = time.monotonic() + timeout_s
        stuck = 0
        left = await asyncio.to_thread(self.outbox.count)
        while left and time.monotonic() < deadline and stuck < 3:
            self._not_before = {c: 0.0 for c in self._not_before}
            await self.round()
            now_left = await asyncio.to_thread(self.outbox.count)
            stuck = stuck + 1 if now_left >= left else 0
            left = now_left
            if left:
                await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        if left:
            log.warning("announce_backlog_left", pending=left)


async def trim_acknowledged(redis: Redis, key: str, keep: int = TRIM_ABOVE) -> int:
    """Trim ``key`` (a stream) only below what every consumer group has acknowledged, and
    only while it holds more than ``keep`` entries; returns the entries removed. A stream
    without a group is never trimmed: nobody has read it yet."""
    if int(await redis.xlen(key)) <= keep:
        return 0
    groups: Any = await redis.xinfo_groups(key)
    if not groups:
        return 0
    floor: tuple[int, int] | None = None
    for group in groups:
        name = _text(group.get("name") or group.get(b"name"))
        last = _id(_text(group.get("last-delivered-id") or group.get(b"last-delivered-id")))
        pending: Any = await redis.xpending(key, name)
        lowest = pending.get("min") if isinstance(pending, dict) else None
        bound = _id(_text(lowest)) if lowest and int(pending.get("pending", 0)) else None
        # Everything below the oldest pending entry and at or below last-delivered is acked.
        mark = bound if bound is not None else (last[0], last[1] + 1)
        floor = mark if floor is None else min(floor, mark)
    if floor is None or floor <= (0, 0):
        return 0
    return int(await redis.xtrim(key, minid=f"{floor[0]}-{floor[1]}", approximate=False))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms or 0), int(seq or 0)
