"""One segment file from the recorder's own RTSP ingest: fragmented MP4 written by hand.

The file is ``ftyp`` + ``moov`` (written when the segment opens), then a ``moof`` + ``mdat``
per GOP, appended with one ``writev`` when the next keyframe arrives: the samples go to
the kernel straight from the buffers the RTP assembler built, never copied into a
container. A killed process loses at most the GOP being gathered (the same guarantee as
FFmpeg's ``frag_keyframe`` + ``flush_packets``, see writer.py). On close: the last
fragment, fsync the file, fsync its directory; only then is the segment announced.

B-frames: RTP carries presentation times only. Frames arrive in decode order and a GOP
starts with an IDR, so the decode times of a GOP are its presentation times sorted; each
sample gets ``pts - dts`` as a (signed, ``trun`` version 1) composition offset.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argus_common.fmp4 import (
    NON_SYNC,
    SYNC,
    AudioTrack,
    Run,
    VideoTrack,
    fragment_header,
    init_segment,
)
from argus_recording.clock import MediaClock
from argus_recording.fencing import LIVE
from argus_recording.layout import DirMaker, fsync_dir
from argus_recording.metrics import ACTIVE_RECORDINGS, WRITE_LATENCY
from argus_recording.packets import Item
from argus_recording.params import VideoParams, split_annexb
from argus_recording.writer import KIND_TAG, ClosedSegment

_IOV = 512  # buffers per writev call (IOV_MAX is 1024 on Linux)
_DEFAULT_VIDEO_TICKS = 3000  # one frame at 30 fps, for a last frame with nothing after it


class FragmentWriter:
    """Writes one segment; ``write`` items, then ``finish`` (or ``abort``)."""

    def __init__(
        self, *, root: Path, dirs: DirMaker, camera_id: int, first: Item, kind: str,
        audio: AudioTrack | None, durable: bool,
    ) -> None:
        start_ms, relpath = dirs.new_segment(camera_id, first.wall_ms)
        self.camera_id = camera_id
        self.kind = kind
        self.relpath = relpath
        self.path = root / relpath
        self.start_ms = start_ms
        self.start_wall = first.wall_ms
        self.params: VideoParams = first.params
        self.durable = durable
        self.has_audio = audio is not None
        self.bytes = 0
        self.last_video_wall = first.wall_ms
        self.frame_ms = 0.0
        self._audio = audio
        self._vbase = first.pts
        self._abase = round(first.media_s * audio.sample_rate) if audio else 0
        self._v: list[bytes] = []
        self._vpts: list[int] = []
        self._vkey: list[bool] = []
        self._vdur = _DEFAULT_VIDEO_TICKS
        self._vprev = 0
        self._vstep = 1 << 62
        self._a: list[bytes] = []
        self._apts: list[int] = []
        self._alast = -1
        self._adur = 960 if audio and audio.codec == "opus" else 1024
        self._seq = 0
        self._good_end = 0  # bytes of whole boxes written (a failed write is cut back here)
        self._frag_recv = 0.0
        self._fd = -1
        try:
            try:
                self._fd = self._create()
            except FileNotFoundError:
                dirs.ensure(self.path.parent, recheck=True)  # pruned by retention meanwhile
                self._fd = self._create()
        except BaseException:
            LIVE.discard(relpath)
            raise
        ACTIVE_RECORDINGS.inc()
        units = split_annexb(self.params.extradata or b"")
        try:
            init = init_segment(VideoTrack(units[0], units[1]), audio,
                                comment=f"{KIND_TAG}{kind}")
            self._writev([init])
            self._good_end = len(init)
        except Exception:
            self.abort()
            raise

    def _create(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)

    def write(self, item: Item) -> bool:
        """Take one unit; False when it is refused (before the segment, or out of order)."""
        if item.is_video:
            pts = item.pts - self._vbase
            if pts < 0:
                return False
            if item.key and self._v:
                self._flush(pts)
            if not self._v:
                self._frag_recv = item.recv_ms
            self._v.append(item.packet.data)
            self._vpts.append(pts)
            self._vkey.append(item.key)
            # The frame interval is the smallest step between neighbours in decode order
            # (with B-frames, presentation order differs); the end is the latest frame.
            step = abs(pts - self._vprev)
            if 0 < step < self._vstep:
                self._vstep = step
                self.frame_ms = step / 90.0
            self._vprev = pts
            if item.wall_ms > self.last_video_wall:
                self.last_video_wall = item.wall_ms
        else:
            pts = item.pts - self._abase
            if self._audio is None or pts <= self._alast:
                return False
            self._a.append(item.packet.data)
            self._apts.append(pts)
            self._alast = pts
        self.bytes += item.size
        return True

    def _flush(self, next_dts: int | None) -> None:
        """Append the gathered GOP as one fragment."""
        pts = self._vpts
        dts = sorted(pts)
        offsets = None if dts == pts else [p - d for p, d in zip(pts, dts, strict=True)]
        durations = [b - a for a, b in itertools.pairwise(dts)]
        if next_dts is not None and next_dts > dts[-1]:
            self._vdur = next_dts - dts[-1]
        durations.append(self._vdur)
        runs = [Run(1, dts[0], durations, [len(s) for s in self._v],
                    [SYNC if k else NON_SYNC for k in self._vkey], offsets)]
        buffers = self._v
        if self._a:
            apts = self._apts
            adur = [b - a for a, b in itertools.pairwise(apts)]
            if adur:
                self._adur = adur[-1]
            adur.append(self._adur)
            runs.append(Run(2, apts[0], adur, [len(s) for s in self._a], [SYNC] * len(apts)))
            buffers = buffers + self._a
        self._seq += 1
        header = fragment_header(self._seq, runs)
        try:
            self._writev([header, *buffers])
        except OSError:
            # A full disk: cut the half-written fragment off and drop the GOP, so nothing
            # later is ever appended after a torn box (the file stays playable).
            self._v, self._vpts, self._vkey, self._a, self._apts = [], [], [], [], []
            self._seq -= 1
            # The segment ends where the dropped GOP began (the index shows the gap).
            self.last_video_wall = self.start_wall + dts[0] / 90.0 - (self.frame_ms or 40.0)
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._good_end)
                os.lseek(self._fd, self._good_end, os.SEEK_SET)
            raise
        self._good_end += len(header) + sum(map(len, buffers))
        WRITE_LATENCY.observe(max(0.0, time.time() - self._frag_recv / 1000.0))
        self._v, self._vpts, self._vkey, self._a, self._apts = [], [], [], [], []

    def _writev(self, buffers: list[bytes]) -> None:
        fd = self._fd
        for i in range(0, len(buffers), _IOV):
            chunk = buffers[i:i + _IOV]
            want = sum(map(len, chunk))
            done = os.writev(fd, chunk)
            if done < want:  # a short write (a full disk raises instead): finish it
                rest = memoryview(b"".join(chunk))[done:]
                while rest:
                    rest = rest[os.write(fd, rest):]

    def finish(self, end_ms: float) -> ClosedSegment:
        """Write the last fragment, make the file durable, describe it."""
        if self._v:
            self._flush(None)
        size = os.fstat(self._fd).st_size
        if self.durable:
            os.fsync(self._fd)
        self._close()
        if self.durable:
            fsync_dir(self.path.parent)
        return ClosedSegment(
            camera_id=self.camera_id, relpath=self.relpath, start_ms=self.start_ms,
            end_ms=max(self.start_ms, round(end_ms)), bytes=size, kind=self.kind,
            codec=self.params.codec, width=self.params.width, height=self.params.height,
            has_audio=self.has_audio,
        )

    def video_end_ms(self) -> float:
        """Where the video ends when nothing follows: the last frame plus one interval."""
        return self.last_video_wall + (self.frame_ms or 40.0)

    def _close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            ACTIVE_RECORDINGS.dec()
            try:
                os.close(fd)
            finally:
                LIVE.discard(self.relpath)

    def abort(self) -> None:
        """Close without announcing (after an error); the file is left to be repaired."""
        try:
            self._close()
        except OSError:
            pass


@dataclass
class FragmentContext:
    """What every segment of one connection shares (the RTSP ingest's ``WriterContext``).

    ``finish`` runs a segment's close (last fragment, two fsyncs, announcement) through
    ``run_later``, off the ingest loop, so a slow disk never stalls the reading of every
    camera; the worker waits for those closes before it reports itself stopped.
    """

    camera_id: int
    root: Path
    dirs: DirMaker
    durable: bool
    audio: AudioTrack | None
    clock: MediaClock
    on_closed: Callable[[ClosedSegment], None]
    on_failed: Callable[[FragmentWriter, BaseException], None]
    run_later: Callable[[Callable[[], None]], None]

    def open(self, first: Item, kind: str) -> FragmentWriter:
        return FragmentWriter(root=self.root, dirs=self.dirs, camera_id=self.camera_id,
                              first=first, kind=kind, audio=self.audio, durable=self.durable)

    def finish(self, writer: FragmentWriter, end_ms: float) -> None:
        """Close, make durable, announce; a failure hands the file to the salvage path."""

        def close() -> None:
            try:
                segment = writer.finish(end_ms)
            except Exception as exc:
                writer.abort()
                self.on_failed(writer, exc)
                return
            self.on_closed(segment)

        self.run_later(close)
