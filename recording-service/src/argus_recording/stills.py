"""Preview stills for the console's timeline: small JPEGs of keyframes beside each segment.

Made once per segment, when it is closed (``Announcer.listeners``), in one thread of their
own: the file was just written, so it is read from the page cache; only packets are
demuxed, and only the keyframes picked (the first at or after every ``interval_s``) are
decoded, each by a fresh single-threaded decoder (a keyframe needs no other frame), then
scaled to ``width`` and encoded as JPEG by FFmpeg's ``mjpeg``. The ingest threads never
wait for it: a full queue drops the segment's stills (counted), which only costs previews.

Names: ``argus_common.stills`` (``<start-ms>.t<offset-ms>.jpg``); retention deletes them
with their segment. Stills stay on local disk when a segment is tiered to the object store.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import structlog
from prometheus_client import Counter, Histogram

from argus_common.stills import still_name
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.stills")

STILLS = Counter("argus_recording_stills_total", "Preview stills by outcome", ["outcome"])
STILL_CPU = Histogram(
    "argus_recording_still_cpu_seconds",
    "Thread CPU time per segment's stills",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
)
_QUEUE = 512


def _jpeg(frame: av.VideoFrame, width: int, quality: int) -> bytes:
    height = max(2, round(frame.height * width / max(frame.width, 1) / 2) * 2)
    small = frame.reformat(width=width, height=height, format="yuvj420p")
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuvj420p"
    enc.time_base = Fraction(1, 1)
    enc.options = {"qmin": str(quality), "qmax": str(quality)}
    return b"".join(bytes(p) for p in [*enc.encode(small), *enc.encode(None)])


def make_stills(
    path: Path, interval_s: float, width: int, quality: int = 6
) -> list[tuple[int, bytes]]:
    """``(offset_ms, jpeg)`` of the keyframes of ``path`` at least ``interval_s`` apart,
    from its first keyframe on. Blocking."""
    out: list[tuple[int, bytes]] = []
    with av.open(str(path)) as container:
        if not container.streams.video:
            return out
        video = container.streams.video[0]
        name, extradata = video.codec_context.name, video.codec_context.extradata
        tb = float(video.time_base or 0) or 1 / 90000
        first: int | None = None
        due = 0.0
        for packet in container.demux(video):
            if packet.pts is None or not packet.is_keyframe:
                continue
            if first is None:
                first = packet.pts
            at = (packet.pts - first) * tb
            if at + 1e-3 < due:
                continue
            dec: Any = av.CodecContext.create(name, "r")
            dec.extradata = extradata
            try:
                frames = [*dec.decode(packet), *dec.decode(None)]
            except av.FFmpegError:
                continue
            if frames:
                out.append((round(at * 1000), _jpeg(frames[0], width, quality)))
                due = at + interval_s
    return out


def write_stills(path: Path, stills: list[tuple[int, bytes]]) -> int:
    """Write ``stills`` beside the segment ``path`` (each through a temporary name, so a
    reader never sees half a JPEG); returns the bytes written."""
    total = 0
    for offset_ms, data in stills:
        final = path.parent / still_name(path, offset_ms)
        part = path.parent / f".{final.name}.part"
        with open(part, "wb") as fh:
            fh.write(data)
        os.replace(part, final)
        total += len(data)
    return total


class StillMaker:
    """Makes the stills of closed segments in one background thread."""

    def __init__(self, root: Path, interval_s: float, width: int) -> None:
        self.root = root
        self.interval_s = interval_s
        self.width = width
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=_QUEUE)
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0

    def observe(self, segment: ClosedSegment) -> None:
        """A listener of ``Announcer``: queue the segment (any thread, never blocks)."""
        if not self.enabled:
            return
        try:
            self._queue.put_nowait(segment.relpath)
        except queue.Full:
            STILLS.labels("dropped").inc()

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stills", daemon=True)
            self._thread.start()

    def wait_idle(self, timeout_s: float) -> bool:
        """Whether every queued segment was handled within ``timeout_s`` (tests, tools)."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish the segment in hand and end the thread (what is queued is dropped)."""
        if self._thread is None:
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
        self._queue.put(None)
        self._thread.join(timeout_s)
        self._thread = None

    def _run(self) -> None:
        while (relpath := self._queue.get()) is not None:
            try:
                self._one(relpath)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _one(self, relpath: str) -> None:
        path = self.root / relpath
        began = time.thread_time()
        try:
            stills = make_stills(path, self.interval_s, self.width)
            size = write_stills(path, stills)
        except (OSError, av.FFmpegError, ValueError) as exc:
            STILLS.labels("failed").inc()
            log.warning("stills_failed", path=relpath, error=type(exc).__name__)
            return
        cpu = time.thread_time() - began
        STILL_CPU.observe(cpu)
        STILLS.labels("made").inc(len(stills))
        log.debug(
            "stills_made", path=relpath, count=len(stills), bytes=size, cpu_ms=round(cpu * 1000, 1)
        )
