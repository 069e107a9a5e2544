"""Writing replayed frames as ordinary segments, exactly over the missing range.

A range ``[lo, hi)`` is what no segment of the camera covers. The replay starts at the
keyframe at or before ``lo``: that GOP is held back, and when the next keyframe comes its
missing frames are re-encoded into a bridge segment of their own (``bridge.py``) that ends
where that keyframe starts; from the keyframe on, frames are copied. The missing frames are
those after the newest one found, by its bytes, in the tail of the live segment that ends
at ``lo`` (``live_tail``: the camera records what it streams); without a match, those
captured from ``lo`` less half a frame interval on (the live index is stamped on arrival, a
little after capture). A bridge whose first frame was captured before ``lo`` is moved to
start at ``lo``, as the live frames were. If the bridge cannot be made (the GOP does not
decode), the backfill starts at the keyframe as before. The range ends with the keyframe
the live segment starting at ``hi`` begins with (found by its bytes in ``live_head``), or a
keyframe within ``CUT_TOLERANCE_MS`` of ``hi``, or the last frame that ends by ``hi``.
Segments are cut at keyframes every ``segment_ms`` and where the camera's own recording
has a hole; each is written by the live path's ``FragmentWriter`` (fMP4, a fragment per
GOP, fsynced before it is announced) with the frames' capture times, and tagged
``backfill``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import av
import structlog

from argus_recording.backfill.bridge import reencode
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


def _video_item(data: bytes, key: bool, wall_ms: float, params: VideoParams) -> Item:
    """A replayed video frame as the segment writer takes it, stamped at ``wall_ms``."""
    pts = round(wall_ms * 90)
    return Item(_Unit(data), VIDEO, True, key, pts, pts, VIDEO_TB, len(data), float(wall_ms),
                time.time() * 1000, params)


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
        live_tail: bytes = b"",
        live_head: bytes = b"",
    ) -> None:
        self.root, self.dirs, self.camera_id = root, dirs, camera_id
        # The end of the live segment that ends at ``lo`` (its last GOP's samples): the
        # replayed frames found in it were recorded live (``_bridge``).
        self.live_tail = live_tail
        # The start of the live segment that starts at ``hi`` (its first GOP): the replayed
        # keyframe found in it is where the live recording resumed, the range's end.
        self.live_head = live_head
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
        # The GOP holding ``lo`` (from its keyframe), until the next keyframe: the bridge.
        self._lead: list[ReplayUnit] = []
        self._edge_done = False  # the leading edge is bridged (or needs no bridge)
        self.bridge_s = 0.0  # CPU seconds spent re-encoding the leading edge
        self.live_found = False  # the last live frame was found in ``live_tail``

    def feed(self, unit: ReplayUnit) -> bool:
        """Take one unit in capture order."""
        wall = unit.wall_ms
        step = wall - self._last_wall if self._last_wall is not None else 0
        if 0 < step < HOLE_MS:
            self.frame_ms = min(self.frame_ms, float(step))
        if unit.key:
            self._params(unit)
        if not self._edge_done and self._leading(unit, step):
            self._last_wall = wall
            return True
        resumes = unit.key and self._resumes_live(unit)
        if unit.key and (resumes or wall >= self.hi_ms - CUT_TOLERANCE_MS):
            # The live recording resumes with this keyframe: the last frame lasts until it.
            self.close(until=wall, adjacent=resumes)
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
        item = _video_item(unit.data, unit.key, wall, self.params)
        if self.writer is None:
            self.writer = self._open(item)
        self.writer.write(item)
        self._last_wall = wall
        return True

    def _leading(self, unit: ReplayUnit, step: int) -> bool:
        """Hold the frames of the GOP holding ``lo``; True when ``unit`` was held. The
        first unit that is not (the next keyframe, a hole, the range's end) makes the
        bridge, up to its own capture time."""
        wall = unit.wall_ms
        if unit.key and wall < self.lo_ms and self.params is not None:
            self._lead = [unit]  # a later keyframe before the gap starts the lead again
            return True
        if (
            self._lead
            and not unit.key
            and step < HOLE_MS
            and wall + self.frame_ms <= self.hi_ms + 0.5
        ):
            self._lead.append(unit)
            return True
        end = wall if step < HOLE_MS else self._lead_end()
        self._bridge(min(float(end), float(self.hi_ms)))
        return False

    def _resumes_live(self, unit: ReplayUnit) -> bool:
        """Whether the live segment after the range starts with this keyframe (a camera
        without RTCP sender reports has its live index stamped on arrival: it may start
        more than ``CUT_TOLERANCE_MS`` after)."""
        return len(unit.data) >= 16 and unit.data in self.live_head

    def _keep_from(self, lead: list[ReplayUnit]) -> tuple[float, bool]:
        """The capture time from which held frames are missing: after the newest one the
        live segment holds (its bytes are in ``live_tail``), else from ``lo`` less half a
        frame (the live index is stamped on arrival, a little after capture)."""
        if self.live_tail:
            for unit in sorted(lead, key=lambda u: u.wall_ms, reverse=True):
                if len(unit.data) >= 16 and unit.data in self.live_tail:
                    return unit.wall_ms + 0.5, True
        return self.lo_ms - self.frame_ms / 2, False

    def _lead_end(self) -> float:
        return self._lead[-1].wall_ms + self.frame_ms if self._lead else float(self.lo_ms)

    def _bridge(self, end: float) -> None:
        """Re-encode the held frames captured in ``[lo - frame/2, end)`` into a segment."""
        lead, self._lead = self._lead, []
        self._edge_done = True
        keep_from, self.live_found = self._keep_from(lead)
        if self.params is None or not any(keep_from <= u.wall_ms < end for u in lead):
            return
        started = time.thread_time()
        try:
            frames = reencode(lead, self.params.key, self._pps, keep_from, end)
        except (av.FFmpegError, ValueError) as exc:
            log.warning("backfill_bridge_failed", camera_id=self.camera_id, error=str(exc))
            return
        finally:
            self.bridge_s += time.thread_time() - started
        if not frames or frames[0].sps is None or frames[0].pps is None:
            return
        params = video_params(frames[0].sps, frames[0].pps)
        if params is None:
            return
        # The first frame may have been captured before the live segment's end (the live
        # index is stamped on arrival): the bridge is moved to start at that end, as the
        # live frames were; a frame moved up to the keyframe after it is left out.
        shift = max(0.0, self.lo_ms - frames[0].wall_ms)
        kept = [f for f in frames if f.wall_ms + shift < end - 0.5]
        if len(kept) < len(frames):
            log.warning(
                "backfill_bridge_frames_dropped",
                camera_id=self.camera_id,
                frames=len(frames) - len(kept),
                shift_ms=shift,
            )
        writer = None
        try:
            for frame in kept:
                wall = frame.wall_ms + shift
                item = _video_item(frame.data, frame.key, wall, params)
                if writer is None:
                    writer = self._open(item)
                writer.write(item)
            assert writer is not None
            segment = writer.finish(end)  # where the next frame (a keyframe) starts
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        self._announce(segment, bridge=True, live_found=self.live_found)

    def _open(self, first: Item) -> FragmentWriter:
        """A new backfill segment starting with ``first``."""
        return FragmentWriter(root=self.root, dirs=self.dirs, camera_id=self.camera_id,
                              first=first, kind=KIND, audio=None, durable=self.durable)

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

    def close(self, until: float | None = None, adjacent: bool = False) -> None:
        """Finish the open segment (fsync) and announce it; it ends by ``until`` (the
        frame after it) and by the range's end; at ``until`` itself when it is close enough
        to be the next frame, or ``adjacent`` (it is: the live keyframe found by its bytes;
        frame intervals jitter by more than half a frame) and no hole comes before it."""
        if not self._edge_done and self._lead:
            self._bridge(min(self._lead_end(), float(self.hi_ms), until or float(self.hi_ms)))
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            end = min(writer.video_end_ms(), float(self.hi_ms), until or float(self.hi_ms))
            if until is not None:
                step = until - writer.last_video_wall
                if step < 1.5 * writer.frame_ms or (adjacent and step < HOLE_MS):
                    end = min(until, float(self.hi_ms))  # the next frame: no jitter holes
            segment = writer.finish(end)
        except BaseException:
            writer.abort()
            raise
        self._announce(segment, bridge=False, live_found=None)

    def _announce(self, segment: ClosedSegment, bridge: bool, live_found: bool | None) -> None:
        self.segments += 1
        self.written_until = segment.end_ms
        log.info(
            "backfill_segment",
            camera_id=self.camera_id,
            path=segment.relpath,
            start_ms=segment.start_ms,
            end_ms=segment.end_ms,
            bridge=bridge,
            live_found=live_found,
        )
        self.on_closed(segment)

    def abort(self) -> None:
        """Close what is open after an error, keeping every whole fragment (announced)."""
        try:
            self.close()
        except Exception:  # the file is salvaged by the next attempt's coverage scan
            log.warning("backfill_close_failed", camera_id=self.camera_id, exc_info=True)
