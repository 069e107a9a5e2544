"""LL-HLS files of one live session, written in a thread of its own.

The ``Segmenter`` turns access units into fMP4 parts and segments (stream copy, nothing is
decoded); this thread writes them into the session directory (``i<n>.mp4`` init sections,
``p<n>.m4s`` parts, ``s<msn>.m4s`` segments, which are their parts end to end), removes
those that left the playlist, and only then announces each one through ``publish``. File
writes block, so they stay off the event loop; the loop only enqueues.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

import structlog

from argus_common.rtsp.frames import AccessUnit
from argus_streaming.hls.segmenter import Event, InitReady, PartReady, Segmenter, SegmentReady

log = structlog.get_logger("argus.streaming.hls")
PLAYLIST = "index.m3u8"
# Segments kept on disk past the playlist window, for players still fetching them.
_KEEP_EXTRA = 3


def init_name(index: int) -> str:
    return f"i{index}.mp4"


def part_name(index: int) -> str:
    return f"p{index}.m4s"


def segment_name(msn: int) -> str:
    return f"s{msn}.m4s"


class HlsWriter:
    """Muxes access units to fMP4 files in ``directory``; ``publish`` runs in its thread."""

    def __init__(self, directory: Path, segment_s: float, part_s: float, list_size: int,
                 publish: Callable[[Event], None], camera_id: int = 0) -> None:
        self.directory = directory
        self.segmenter = Segmenter(segment_s, part_s)
        self.list_size = list_size
        self.camera_id = camera_id
        self._publish = publish
        self._queue: queue.Queue[tuple[AccessUnit, bool] | None] = queue.Queue(maxsize=300)
        self._thread = threading.Thread(target=self._run, name="hls-writer", daemon=True)
        self._resync = False
        self._open_parts: list[bytes] = []
        self._written: deque[SegmentReady] = deque()
        self.frames = 0
        self.error: str | None = None

    def start(self) -> None:
        """Create the directory and start the muxing thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def feed(self, unit: AccessUnit, replay: bool = False) -> None:
        """Queue one access unit (``replay``: from the source's GOP cache); never blocks, a
        full queue drops up to the next keyframe."""
        if self._resync:
            if not unit.keyframe:
                return
            self._resync = False
        try:
            self._queue.put_nowait((unit, replay))
        except queue.Full:
            self._resync = True

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (blocking: call it off the loop)."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout_s)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                for event in self.segmenter.feed(*item):
                    self._write(event)
                self.frames += 1
        except Exception as exc:  # a muxer error ends this session's output, never the service
            self.error = str(exc)[:200]
            log.warning("hls_writer_failed", camera_id=self.camera_id, error=self.error)

    def _write(self, event: Event) -> None:
        if isinstance(event, InitReady):
            (self.directory / init_name(event.index)).write_bytes(event.data)
        elif isinstance(event, PartReady):
            (self.directory / part_name(event.index)).write_bytes(event.data)
            self._open_parts.append(event.data)
        else:
            (self.directory / segment_name(event.msn)).write_bytes(b"".join(self._open_parts))
            self._open_parts = []
            self._written.append(event)
            while len(self._written) > self.list_size + _KEEP_EXTRA:
                self._remove(self._written.popleft())
        self._publish(event)

    def _remove(self, seg: SegmentReady) -> None:
        names = [segment_name(seg.msn), *(part_name(p) for p in seg.parts)]
        for name in names:
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()
