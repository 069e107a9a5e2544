"""How packets become segments: continuously, or only around events.

Both cut only at keyframes (a segment must start with one), and a segment's end is the
wall-clock time of the keyframe that starts the next one, so consecutive segments touch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import structlog

from argus_recording.clock import MediaClock
from argus_recording.layout import DirMaker
from argus_recording.packets import Item
from argus_recording.params import VideoParams
from argus_recording.ring import PreRoll
from argus_recording.window import EventWindow
from argus_recording.writer import ClosedSegment, SegmentWriter

log = structlog.get_logger("argus.recording.modes")
# Keyframes land on whole seconds; float rounding must not push a cut a whole GOP later.
_EPSILON_MS = 1.0
# Packets come in arrival order, not time order: audio stamped ahead of a video frame the
# camera sent late, B-frames. An event clip is opened and closed at the newest time seen,
# unless a packet lies this far behind it (a new connection's clock, a step back).
_REORDER_MS = 2000.0


class Segment(Protocol):
    """An open segment file (writer.py's ``SegmentWriter``, fragments.py's
    ``FragmentWriter``)."""

    start_wall: float
    params: VideoParams

    def write(self, item: Item) -> bool: ...

    def video_end_ms(self) -> float: ...


class Context(Protocol):
    """What the recorders need from their ingest: open and finish segments."""

    clock: MediaClock

    def open(self, first: Item, kind: str) -> Any: ...

    def finish(self, writer: Any, end_ms: float) -> None: ...


@dataclass
class WriterContext:
    """What every segment of one connection shares."""

    camera_id: int
    root: Path
    dirs: DirMaker
    durable: bool
    video_in: av.VideoStream
    audio_in: av.AudioStream | None
    clock: MediaClock
    on_closed: Callable[[ClosedSegment], None]
    on_failed: Callable[[SegmentWriter, BaseException], None]

    def open(self, first: Item, kind: str) -> SegmentWriter:
        return SegmentWriter(
            root=self.root, dirs=self.dirs, camera_id=self.camera_id, first=first, kind=kind,
            video_in=self.video_in, audio_in=self.audio_in, durable=self.durable,
        )

    def finish(self, writer: SegmentWriter, end_ms: float) -> None:
        """Close, make durable, announce; a failure hands the file to the salvage path."""
        try:
            segment = writer.finish(end_ms)
        except Exception as exc:
            writer.abort()
            self.on_failed(writer, exc)
            return
        self.on_closed(segment)


class ContinuousRecorder:
    """Every packet goes into a segment; a new segment every ``segment_ms`` (at the next
    keyframe) or when the video parameters change."""

    kind = "continuous"

    def __init__(self, ctx: Context, segment_ms: float) -> None:
        self.ctx = ctx
        self.segment_ms = segment_ms
        self.writer: Segment | None = None

    def on_packet(self, item: Item) -> bool:
        """Write ``item``; False when it could not be (before the first keyframe …)."""
        writer = self.writer
        if writer is None:
            if not item.key:
                return False
            writer = self.writer = self.ctx.open(item, self.kind)
        elif item.key and (
            item.wall_ms - writer.start_wall >= self.segment_ms - _EPSILON_MS
            or item.params is not writer.params
        ):
            self.ctx.finish(writer, item.wall_ms)
            self.writer = None
            if self.ctx.clock.at_boundary():
                item.wall_ms = self.ctx.clock.wall_ms(item.media_s)
                log.info("clock_reanchored")
            writer = self.writer = self.ctx.open(item, self.kind)
        return writer.write(item)

    def stop(self, end_ms: float | None = None) -> None:
        """Finish the open segment (at ``end_ms``, else after its last frame)."""
        if self.writer is not None:
            writer, self.writer = self.writer, None
            self.ctx.finish(writer, end_ms if end_ms is not None else writer.video_end_ms())


class EventRecorder:
    """Segments only while events are active, starting ``pre_roll_ms`` before the first
    event at a keyframe taken from the pre-roll buffer. One clip per run of overlapping
    events, cut every ``max_ms`` or on a parameter change."""

    kind = "event"

    def __init__(
        self, ctx: Context, window: EventWindow, pre_roll_ms: float, max_ms: float,
        slack_ms: float = 3000.0,
    ) -> None:
        self.ctx = ctx
        self.window = window
        self.pre_roll_ms = pre_roll_ms
        self.max_ms = max_ms
        self.ring = PreRoll(pre_roll_ms + slack_ms)
        self.writer: Segment | None = None
        self.last_end_ms = 0.0
        self._newest_ms = -math.inf  # the latest packet time seen (see _REORDER_MS)

    def on_packet(self, item: Item) -> bool:
        self.ring.push(item)
        if item.wall_ms < self._newest_ms - _REORDER_MS or item.wall_ms > self._newest_ms:
            self._newest_ms = item.wall_ms
        # A packet stamped before one already seen must not close a clip the newer one
        # opened (an event starting between them): that clip would end at once and the
        # next one start at a keyframe after it, without its pre-roll.
        now = self._newest_ms
        span = self.window.span(now)
        writer = self.writer
        if writer is None:
            if span is None:
                return True  # buffered for a later pre-roll
            items = self.ring.take(span[0] - self.pre_roll_ms, self.last_end_ms)
            if not items:
                return True  # wait for a keyframe
            writer = self.writer = self.ctx.open(items[0], self.kind)
            for buffered in items:
                writer.write(buffered)
            return True
        if span is None or now >= span[1]:
            self._close(now)
            return True
        if item.key and (
            item.wall_ms - writer.start_wall >= self.max_ms - _EPSILON_MS
            or item.params is not writer.params
        ):
            self.ctx.finish(writer, item.wall_ms)
            writer = self.writer = self.ctx.open(item, self.kind)
        return writer.write(item)

    def _close(self, end_ms: float) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            self.ctx.finish(writer, end_ms)
            self.last_end_ms = end_ms

    def stop(self, end_ms: float | None = None) -> None:
        if self.writer is not None:
            self._close(end_ms if end_ms is not None else self.writer.video_end_ms())
        self.ring.clear()
        self._newest_ms = -math.inf
