"""Analysis results to Redis: every analysed frame live on ``analysis.frames``, the frames
worth keeping on the ``argus:analysis`` stream (management stores them).

Kept: every frame with motion (``ANALYSIS_RESULTS_MOTION_FRAMES``), the start and end of
each motion event, and otherwise one ``summary`` per ``ANALYSIS_RESULTS_SUMMARY_S`` of
media time, so a quiet camera adds one row a second instead of thirty.

Frames are queued by the loop as they arrive and sent in one pipeline per batch. Live
frames with nobody listening (PUBLISH reached no subscriber) are sent only once a second,
to notice a listener arriving.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from argus_analysis.metrics import RESULTS_QUEUED
from argus_analysis.pipeline import FrameAnalysis
from argus_common.bus import RedisBus
from argus_common.events import (
    CHANNEL_ANALYSIS_FRAMES,
    STREAM_ANALYSIS,
    AnalysisFrame,
    DetectedObject,
    MotionBox,
)
from argus_common.retry import Backoff, keep_running

log = structlog.get_logger("argus.analysis.results")

MAX_PENDING_ROWS = 20_000  # rows kept while Redis is away; the oldest go first
_IDLE_PROBE_S = 1.0


def to_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


MAX_OBJECTS = 64  # detections carried per frame (the message's bound)


def frame_message(
    camera_id: int | None, session_id: str, a: FrameAnalysis, event_id: int | None,
    kind: str = "frame", media: bool = False, objects: list[dict[str, Any]] | None = None,
) -> AnalysisFrame:
    """The message of one analysed frame (with ``objects`` when detection ran on it)."""
    return AnalysisFrame(
        objects=None if objects is None
        else [DetectedObject.model_validate(o) for o in objects[:MAX_OBJECTS]],
        type="analysis.frame", camera_id=camera_id, ts=to_datetime(a.wall),
        session_id=session_id, kind=kind,
        motion=a.result.motion, score=a.result.score,
        boxes=[MotionBox(x=b[0], y=b[1], w=b[2], h=b[3]) for b in a.result.boxes],
        width=a.width, height=a.height, frames=1, motion_frames=int(a.result.motion),
        max_score=a.result.score, event_id=event_id,
        media_s=round(a.media_s, 3) if media else None,
    )


@dataclass
class Summary:
    """Frames of one session since its last stored row."""

    next_at: float = 0.0
    frames: int = 0
    motion_frames: int = 0
    max_score: float = 0.0
    started: float = field(default_factory=time.monotonic)


class RowPicker:
    """Decides which analysed frames of each session become stored rows."""

    def __init__(self, summary_s: float, motion_frames: bool) -> None:
        self.summary_s = summary_s
        self.motion_frames = motion_frames
        self._sessions: dict[str, Summary] = {}

    def pick(
        self, camera_id: int | None, session_id: str, a: FrameAnalysis, event_id: int | None,
        media: bool = False, objects: list[dict[str, Any]] | None = None,
    ) -> list[AnalysisFrame]:
        """The rows this frame adds (none, a motion frame, a transition and/or a summary)."""
        s = self._sessions.get(session_id)
        if s is None:
            s = self._sessions[session_id] = Summary(next_at=a.wall + self.summary_s)
        s.frames += 1
        s.max_score = max(s.max_score, a.result.score)
        rows: list[AnalysisFrame] = []
        if a.transition is not None:
            kind = "motion.start" if a.transition.kind == "start" else "motion.end"
            rows.append(frame_message(camera_id, session_id, a, event_id, kind, media, objects))
        if a.result.motion or objects:
            s.motion_frames += int(a.result.motion)
            if self.motion_frames:
                rows.append(frame_message(camera_id, session_id, a, event_id, "frame", media,
                                          objects))
        if self.summary_s > 0 and a.wall >= s.next_at:
            row = frame_message(camera_id, session_id, a, event_id, "summary", media)
            row.frames, row.motion_frames, row.max_score = s.frames, s.motion_frames, s.max_score
            rows.append(row)
            s.frames = s.motion_frames = 0
            s.max_score = 0.0
            s.next_at = a.wall + self.summary_s
        return rows

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)


class ResultWriter:
    """Queues live frames and stored rows; ``run`` sends them in pipelined batches."""

    def __init__(self, bus: RedisBus, picker: RowPicker, publish_frames: bool) -> None:
        self.bus = bus
        self.picker = picker
        self.publish_frames = publish_frames
        self._live: list[str] = []
        self._rows: collections.deque[AnalysisFrame] = collections.deque(maxlen=MAX_PENDING_ROWS)
        self._wake = asyncio.Event()
        self._listeners = True
        self._next_probe = 0.0

    def add(
        self, camera_id: int | None, session_id: str, a: FrameAnalysis, event_id: int | None,
        *, live: bool = True, media: bool = False, objects: list[dict[str, Any]] | None = None,
    ) -> None:
        """Queue one analysed frame (called on the loop); ``objects``: its detections."""
        if live and self.publish_frames and (
            self._listeners or time.monotonic() >= self._next_probe
        ):
            self._next_probe = time.monotonic() + _IDLE_PROBE_S
            self._live.append(frame_message(camera_id, session_id, a, event_id,
                                            objects=objects).model_dump_json())
        rows = self.picker.pick(camera_id, session_id, a, event_id, media, objects)
        if rows:
            self._rows.extend(rows)
        if self._live or self._rows:
            self._wake.set()

    def pending(self) -> int:
        return len(self._rows) + len(self._live)

    async def run(self) -> None:
        """Send what is queued until cancelled; while Redis is away, again after 1 s, 2 s,
        4 s… up to 10 s (one warning each)."""
        await keep_running(self._send_when_woken, event="results_not_sent", log=log,
                           backoff=Backoff(1.0, 10.0))

    async def _send_when_woken(self) -> None:
        await self._wake.wait()
        self._wake.clear()
        try:
            await self.flush()
        except Exception:
            self._wake.set()  # what was not sent goes with the next try
            raise

    async def flush(self) -> None:
        """One pipeline with every queued live frame and stored row."""
        live, self._live = self._live, []
        rows = list(self._rows)
        if not live and not rows:
            return
        pipe = self.bus.redis.pipeline(transaction=False)
        channel = self.bus.key(CHANNEL_ANALYSIS_FRAMES)
        for raw in live:
            pipe.publish(channel, raw)
        stream = self.bus.key(STREAM_ANALYSIS)
        for row in rows:
            pipe.xadd(stream, {"data": row.model_dump_json()}, maxlen=100_000, approximate=True)
        answers = await pipe.execute()
        for _ in rows:  # sent: drop them (new ones may have been appended meanwhile)
            row = self._rows.popleft()
            RESULTS_QUEUED.labels(row.kind).inc()
        if live:
            self._listeners = any(int(n) > 0 for n in answers[: len(live)])
