"""One segment file: fragmented MP4 (a fragment per GOP) written straight from packets.

``frag_keyframe+empty_moov+default_base_moof``: the header holds no sample tables, and
every GOP becomes a ``moof``+``mdat`` pair appended when the next keyframe arrives.
``flush_packets=1`` hands each finished fragment to the kernel at once, so a killed
process loses at most the fragment still being gathered. On close: trailer, fsync the
file, fsync its directory; only then is the segment announced (worker.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import av

from argus_recording.fencing import LIVE
from argus_recording.layout import DirMaker, fsync_dir, fsync_file
from argus_recording.metrics import ACTIVE_RECORDINGS, WRITE_LATENCY
from argus_recording.packets import Item
from argus_recording.params import VideoParams

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
KIND_TAG = "argus kind="


@dataclass(frozen=True)
class ClosedSegment:
    """A finished, durable segment, ready to be announced."""

    camera_id: int
    relpath: str
    start_ms: int
    end_ms: int
    bytes: int
    kind: str
    codec: str
    width: int
    height: int
    has_audio: bool

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


class SegmentWriter:
    """Writes one segment; ``write`` packets, then ``finish`` (or ``abort``)."""

    def __init__(
        self,
        *,
        root: Path,
        dirs: DirMaker,
        camera_id: int,
        first: Item,
        kind: str,
        video_in: av.VideoStream,
        audio_in: av.AudioStream | None,
        durable: bool,
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
        self.bytes = 0
        self.last_video_wall = first.wall_ms
        self.frame_ms = 0.0
        self._open = False
        self._closed = False
        try:
            try:
                self._out = self._create()
            except FileNotFoundError:
                dirs.ensure(self.path.parent, recheck=True)  # pruned by retention meanwhile
                self._out = self._create()
        except BaseException:
            LIVE.discard(relpath)
            raise
        try:
            self._out.metadata["comment"] = f"{KIND_TAG}{kind}"
            self._streams, self._base = self._add_streams(first, video_in, audio_in)
        except Exception:
            self.abort()
            raise
        self.has_audio = audio_in is not None
        self._last_dts: dict[int, int] = {}
        self._frag_recv: float | None = None
        self._pending: float | None = None
        self._flushed = 0
        ACTIVE_RECORDINGS.inc()
        self._open = True

    def _create(self) -> av.container.OutputContainer:
        return av.open(
            str(self.path), "w", format="mp4",
            options={"movflags": MOVFLAGS, "flush_packets": "1"},
        )

    def _add_streams(
        self, first: Item, video_in: av.VideoStream, audio_in: av.AudioStream | None
    ) -> tuple[dict[int, av.stream.Stream], dict[int, int]]:
        video = self._out.add_stream_from_template(video_in)
        params = first.params
        if params.extradata is not None and params.extradata != video_in.codec_context.extradata:
            # Parameters changed mid-stream: the sample entry must describe the new ones.
            video.codec_context.extradata = params.extradata
            video.codec_context.width = params.width
            video.codec_context.height = params.height
        streams: dict[int, av.stream.Stream] = {first.stream_index: video}
        # Output timestamps start at zero at the segment's first keyframe.
        base = {first.stream_index: first.dts}
        if audio_in is not None:
            streams[audio_in.index] = self._out.add_stream_from_template(audio_in)
            audio_tb = float(audio_in.time_base) if audio_in.time_base else 1.0
            base[audio_in.index] = round(first.dts * first.tb / audio_tb)
        return streams, base

    def write(self, item: Item) -> bool:
        """Mux one packet; False when it is refused (before the segment, or out of order)."""
        index = item.stream_index
        stream = self._streams.get(index)
        if stream is None:
            return False
        base = self._base[index]
        dts = item.dts - base
        last = self._last_dts.get(index)
        if dts < 0 or (last is not None and dts <= last):
            return False
        packet = item.packet
        packet.dts = dts
        packet.pts = max(item.pts - base, dts)
        packet.stream = stream
        if item.is_video:
            if item.key:
                # This keyframe makes the muxer write out the previous GOP's fragment.
                if self._frag_recv is not None:
                    self._pending = self._frag_recv
                self._frag_recv = item.recv_ms
            if item.wall_ms > self.last_video_wall:
                self.frame_ms = item.wall_ms - self.last_video_wall
            self.last_video_wall = item.wall_ms
        self._out.mux(packet)
        self._last_dts[index] = dts
        self.bytes += item.size
        if self._pending is not None:
            self._check_flushed()
        return True

    def _check_flushed(self) -> None:
        # The interleaver may hold the keyframe until audio catches up: look at the file.
        size = os.stat(self.path).st_size
        if size > self._flushed:
            assert self._pending is not None
            WRITE_LATENCY.observe(max(0.0, time.time() - self._pending / 1000.0))
            self._flushed = size
            self._pending = None

    def finish(self, end_ms: float) -> ClosedSegment:
        """Write the last fragment and the index, make the file durable, describe it."""
        self._close()
        if self._frag_recv is not None:
            WRITE_LATENCY.observe(max(0.0, time.time() - self._frag_recv / 1000.0))
        if self.durable:
            fsync_file(self.path)
            fsync_dir(self.path.parent)
        return ClosedSegment(
            camera_id=self.camera_id, relpath=self.relpath, start_ms=self.start_ms,
            end_ms=max(self.start_ms, round(end_ms)), bytes=self.path.stat().st_size,
            kind=self.kind, codec=self.params.codec, width=self.params.width,
            height=self.params.height, has_audio=self.has_audio,
        )

    def video_end_ms(self) -> float:
        """Where the video ends when nothing follows: the last frame plus one interval."""
        return self.last_video_wall + (self.frame_ms or 40.0)

    def _close(self) -> None:
        if self._open:
            self._open = False
            ACTIVE_RECORDINGS.dec()
        if not self._closed:
            self._closed = True
            try:
                self._out.close()
            finally:
                LIVE.discard(self.relpath)

    def abort(self) -> None:
        """Close without announcing (after an error); the file is left to be repaired."""
        try:
            self._close()
        except Exception:  # noqa: S110 - the file is salvaged by the caller
            pass
