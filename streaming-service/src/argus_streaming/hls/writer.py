"""HLS muxing of pass-through H.264 with PyAV, in a thread of its own.

PyAV's ``hls`` muxer cuts 1 s MPEG-TS segments at keyframes and maintains the playlist;
nothing is decoded or encoded (stream copy). Muxing and file writes block, so they run in a
dedicated thread fed through a bounded queue; the event loop only enqueues.
"""

from __future__ import annotations

import io
import queue
import threading
from fractions import Fraction
from pathlib import Path

import av
import structlog

from argus_streaming.media.frames import VIDEO_CLOCK, AccessUnit

log = structlog.get_logger("argus.streaming.hls")
_TB = Fraction(1, VIDEO_CLOCK)
PLAYLIST = "index.m3u8"


class HlsWriter:
    """Writes ``index.m3u8`` and its segments into ``directory``."""

    def __init__(self, directory: Path, segment_s: float, list_size: int,
                 camera_id: int = 0) -> None:
        self.directory = directory
        self.segment_s = segment_s
        self.list_size = list_size
        self.camera_id = camera_id
        self._queue: queue.Queue[AccessUnit | None] = queue.Queue(maxsize=300)
        self._thread = threading.Thread(target=self._run, name="hls-writer", daemon=True)
        self._resync = False
        self.frames = 0
        self.error: str | None = None

    @property
    def playlist(self) -> Path:
        return self.directory / PLAYLIST

    def start(self) -> None:
        """Create the directory and start the muxing thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def feed(self, unit: AccessUnit) -> None:
        """Queue one access unit (never blocks; a full queue drops up to the next keyframe)."""
        if self._resync:
            if not unit.keyframe:
                return
            self._resync = False
        try:
            self._queue.put_nowait(unit)
        except queue.Full:
            self._resync = True

    def close(self, timeout_s: float = 5.0) -> None:
        """Finish the files and stop the thread (blocking: call it off the loop)."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._mux()
        except Exception as exc:  # a muxer error ends this session, never the service
            self.error = str(exc)[:200]
            log.warning("hls_writer_failed", camera_id=self.camera_id, error=self.error)

    def _next_keyframe(self) -> AccessUnit | None:
        while True:
            unit = self._queue.get()
            if unit is None or unit.keyframe:
                return unit

    def _mux(self) -> None:
        first = self._next_keyframe()
        if first is None:
            return
        # The output stream copies its parameters from a probe of the first keyframe.
        with av.open(io.BytesIO(first.data), format="h264") as probe:
            template = probe.streams.video[0]
            out = av.open(
                str(self.playlist), "w", format="hls",
                options={
                    "hls_time": f"{self.segment_s:g}",
                    "hls_list_size": str(self.list_size),
                    "hls_flags": "delete_segments+independent_segments+temp_file"
                                 "+program_date_time",
                    "hls_segment_type": "mpegts",
                    "hls_segment_filename": str(self.directory / "seg%06d.ts"),
                },
            )
            stream = out.add_stream_from_template(template)
        stream.time_base = _TB
        base = first.pts
        last = -1
        unit: AccessUnit | None = first
        try:
            while unit is not None:
                pts = unit.pts - base
                if pts > last:
                    packet = av.Packet(unit.data)
                    packet.pts = packet.dts = pts
                    packet.time_base = _TB
                    packet.stream = stream
                    packet.is_keyframe = unit.keyframe
                    out.mux(packet)
                    last = pts
                    self.frames += 1
                unit = self._queue.get()
        finally:
            out.close()
