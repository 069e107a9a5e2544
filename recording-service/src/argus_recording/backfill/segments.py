"""Writing replayed frames as ordinary segments, exactly over the missing range.

A range ``[lo, hi)`` is what no segment of the camera covers. The first frame kept is the
first keyframe captured at or after ``lo`` (a frame before it would repeat what the segment
ending at ``lo`` holds); the last kept frame ends at or before ``hi``, and a keyframe within
``CUT_TOLERANCE_MS`` of ``hi`` ends the range: it is the frame the live recording after the
outage starts with (the live index is stamped on arrival, a little after capture).
Segments are cut at keyframes every ``segment_ms`` and where the camera's own recording
has a hole; each is written by the live path's ``FragmentWriter`` (fMP4, a fragment per
GOP, fsynced before it is announced) with the frames' capture times, and tagged
``backfill``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import structlog

from argus_recording.backfill.replay import ReplayUnit
from argus_recording.fragments import FragmentWriter
from argus_recording.layout import DirMaker
from argus_recording.packets import Item
from argus_recording.params import VideoParams
from argus_recording.rtp_stamp import VIDEO, VIDEO_TB, video_params
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.backfill")

KIND = "backfill"
CUT_TOLERANCE_MS = 300
HOLE_MS = 2000  # frames further apart: the camera has no footage in between


class _Unit:
    """What ``FragmentWriter`` reads of a sample (``packet.data``)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class BackfillWriter:
    """Feeds replayed units into segment files; ``feed`` returns False once done."""

    def __init__(
        self,
        *,
        root: Path,
        dirs: DirMaker,
        camera_id: int,
        lo_ms: int,
        hi_ms: int,
        segment_ms: float,
        durable: bool,
        sprop: tuple[bytes | None, bytes | None],
        on_closed: Callable[[ClosedSegment], None],
    ) -> None:
        self.root, self.dirs, self.camera_id = root, dirs, camera_id
        self.lo_ms, self.hi_ms = lo_ms, hi_ms
        self.segment_ms = segment_ms
        self.durable = durable
        self.on_closed = on_closed
        self.writer: FragmentWriter | None = None
        self.params: VideoParams | None = video_params(*sprop) if all(sprop) else None  # type: ignore[arg-type]
        self._pps: bytes | None = sprop[1]
        self._last_wall: int | None = None
        self.frame_ms = 1000.0  # the smallest step between frames seen so far
        self.written_until = lo_ms  # end of the last closed segment (progress)
        self.segments = 0

    def feed(self, unit: ReplayUnit) -> bool:
        """Take one unit in capture order."""
        wall = unit.wall_ms
        step = wall - self._last_wall if self._last_wall is not None else 0
        if 0 < step < HOLE_MS:
            self.frame_ms = min(self.frame_ms, float(step))
        if unit.key:
            self._params(unit)
            if wall >= self.hi_ms - CUT_TOLERANCE_MS:
                self.close(until=wall)
                return False
        if self.writer is None and (not unit.key or wall < self.lo_ms or self.params is None):
            self._last_wall = wall
            return True
        if wall + self.frame_ms > self.hi_ms + 0.5:
            self.close(until=wall)
            return False
        if self.writer is not None and (
            (self._last_wall is not None and wall - self._last_wall >= HOLE_MS)
            or (
                unit.key
                and (
                    wall - self.writer.start_wall >= self.segment_ms
                    or self.writer.params != self.params
                )
            )
        ):
            # Frame intervals jitter: the next frame may come sooner than the smallest
            # interval the segment saw, and the segment must not end after it starts.
            self.close(until=wall)
            if not unit.key:
                self._last_wall = wall
                return True
        assert self.params is not None  # a segment only opens with parameters known
        item = Item(
            _Unit(unit.data),
            VIDEO,
            True,
            unit.key,
            round(wall * 90),
            round(wall * 90),
            VIDEO_TB,
            len(unit.data),
            float(wall),
            time.time() * 1000,
            self.params,
        )
        if self.writer is None:
            self.writer = FragmentWriter(
                root=self.root,
                dirs=self.dirs,
                camera_id=self.camera_id,
                first=item,
                kind=KIND,
                audio=None,
                durable=self.durable,
            )
        self.writer.write(item)
        self._last_wall = wall
        return True

    def set_sprop(self, sprop: tuple[bytes | None, bytes | None]) -> None:
        """Parameter sets from the replay's SDP (for cameras that send none in-band)."""
        sps, pps = sprop
        if self.params is None and sps is not None and pps is not None:
            self.params = video_params(sps, pps)
            self._pps = pps

    def _params(self, unit: ReplayUnit) -> None:
        if unit.pps is not None:
            self._pps = unit.pps
        if (
            unit.sps is not None
            and self._pps is not None
            and (self.params is None or unit.sps != self.params.key)
        ):
            fresh = video_params(unit.sps, self._pps)
            if fresh is not None:
                self.params = fresh

    def close(self, until: float | None = None) -> None:
        """Finish the open segment (fsync) and announce it; it ends by ``until`` (the
        frame after it) and by the range's end."""
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            end = min(writer.video_end_ms(), float(self.hi_ms), until or float(self.hi_ms))
            segment = writer.finish(end)
        except BaseException:
            writer.abort()
            raise
        self.segments += 1
        self.written_until = segment.end_ms
        log.info(
            "backfill_segment",
            camera_id=self.camera_id,
            path=segment.relpath,
            start_ms=segment.start_ms,
            end_ms=segment.end_ms,
        )
        self.on_closed(segment)

    def abort(self) -> None:
        """Close what is open after an error, keeping every whole fragment (announced)."""
        try:
            self.close()
        except Exception:  # the file is salvaged by the next attempt's coverage scan
            log.warning("backfill_close_failed", camera_id=self.camera_id, exc_info=True)
