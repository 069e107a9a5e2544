"""Cuts a live H.264 stream into LL-HLS partial segments and segments (pure logic, no I/O).

- A **part** is one ``moof`` + ``mdat`` of at most ``part_s`` (a frame's duration is known
  when the next frame arrives, so a part closes on the frame that would overfill it). A
  keyframe always starts a new part, which is then independent.
- A **segment** is the parts from one keyframe to the first keyframe at least
  ``segment_s`` later: a 1 s GOP gives 1 s segments.
- **Ramp-up.** hls.js starts only once the playlist has a whole segment, and loads parts
  only from an independent one or right after one it loaded as a part. So until the
  second keyframe of the stream, every part closed by a live frame also closes its
  segment: a player starts one part after the first keyframe instead of one GOP after it,
  and then loads whole (one-part) segments in order. Frames replayed from the source's GOP
  cache come at once and stay in the first segment, so a player that starts inside it
  starts at its keyframe. Those ramp-up segments (but the first) start without a keyframe,
  which is why the playlist does not claim ``EXT-X-INDEPENDENT-SEGMENTS`` and marks
  independent parts instead.
- New parameter sets (the camera changed resolution) start a new init section and a
  discontinuity. Timestamps stay continuous: a gap longer than ``max_gap`` (a camera that
  reconnected) is closed up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argus_common.rtsp.frames import VIDEO_CLOCK, AccessUnit
from argus_streaming.hls.fmp4 import Sample, fragment, init_segment, to_avcc

TIMESCALE = VIDEO_CLOCK


@dataclass(frozen=True, slots=True)
class InitReady:
    """A new init section (``EXT-X-MAP``)."""

    index: int
    data: bytes


@dataclass(frozen=True, slots=True)
class PartReady:
    """A finished part: ``index`` counts parts over the whole session."""

    index: int
    msn: int  # the media sequence number of its segment
    duration: float  # seconds
    independent: bool
    data: bytes


@dataclass(frozen=True, slots=True)
class SegmentReady:
    """A finished segment: its parts, in order, make up its bytes."""

    msn: int
    duration: float
    init: int  # index of its init section
    discontinuity: bool
    wall_ms: int  # camera-receive wall clock of its first frame
    parts: tuple[int, ...]


Event = InitReady | PartReady | SegmentReady


@dataclass
class _Open:
    """The segment being built."""

    msn: int
    init: int
    discontinuity: bool
    wall_ms: int
    start: int  # output timestamp of its first frame
    keyframe: bool  # whether it starts with one (ramp-up segments do not)
    parts: list[int] = field(default_factory=list)


class Segmenter:
    """Feed access units in order; each call returns what it finished."""

    def __init__(self, segment_s: float, part_s: float) -> None:
        self.segment_ticks = round(segment_s * TIMESCALE)
        self.part_ticks = round(part_s * TIMESCALE)
        self.max_gap = max(2 * TIMESCALE, 4 * self.segment_ticks)
        self._params: tuple[bytes, bytes] | None = None
        self._inits = 0
        self._next_msn = 0
        self._next_part = 0
        self._sequence = 0
        self._segment: _Open | None = None
        self._ramp = True  # until the second keyframe: one-part segments (see above)
        self._pending: list[tuple[bytes, int, bool]] = []  # (avcc, output pts, keyframe)
        self._last_in: int | None = None  # input pts of the last unit
        self._offset = 0  # subtracted from input pts (first pts, plus closed gaps)
        self._delta = TIMESCALE // 30  # the usual frame interval, for gaps

    def feed(self, unit: AccessUnit, replay: bool = False) -> list[Event]:
        """Add one access unit (``replay``: from the GOP cache, not live); returns the init
        sections, parts and segments it closed."""
        if self._last_in is not None and unit.pts <= self._last_in:
            return []  # out of order or repeated: never goes backwards
        data, sps, pps = to_avcc(unit.data)
        if not data:
            return []
        events: list[Event] = []
        if self._last_in is None:
            if not unit.keyframe or sps is None or pps is None:
                return []  # start at a keyframe that carries its parameter sets
            self._offset = unit.pts
        else:
            gap = unit.pts - self._last_in
            if gap > self.max_gap:
                self._offset += gap - self._delta
            else:
                self._delta = gap
        self._last_in = unit.pts
        pts = unit.pts - self._offset
        new_params = unit.keyframe and sps is not None and pps is not None and (
            (sps, pps) != self._params)
        seg = self._segment
        if seg is not None and self._pending:
            span = pts - self._pending[0][1]
            full = span + self._delta > self.part_ticks + TIMESCALE // 1000
            ramp_cut = self._ramp and not replay
            if unit.keyframe or full:
                self._close_part(pts, events)
            long_enough = pts - seg.start >= self._min_segment() or not seg.keyframe
            if new_params or (unit.keyframe and long_enough) or (
                    ramp_cut and (unit.keyframe or full)):
                self._close_segment(pts, events)
            if unit.keyframe:
                self._ramp = False
        if new_params:
            assert sps is not None and pps is not None
            self._params = (sps, pps)
            events.append(InitReady(self._inits, init_segment(sps, pps, TIMESCALE)))
            self._inits += 1
        if self._segment is None:
            self._segment = _Open(self._next_msn, self._inits - 1,
                                  new_params and self._inits > 1, unit.wall_ms, pts,
                                  unit.keyframe)
            self._next_msn += 1
        self._pending.append((data, pts, unit.keyframe))
        return events

    def _min_segment(self) -> int:
        # A keyframe half a frame early still ends the segment (timestamps jitter).
        return self.segment_ticks - self._delta // 2

    def _close_part(self, end: int, events: list[Event]) -> None:
        seg = self._segment
        assert seg is not None and self._pending
        samples = []
        for i, (data, pts, key) in enumerate(self._pending):
            nxt = self._pending[i + 1][1] if i + 1 < len(self._pending) else end
            samples.append(Sample(data, nxt - pts, key))
        start = self._pending[0][1]
        self._sequence += 1
        part = PartReady(self._next_part, seg.msn, (end - start) / TIMESCALE,
                         self._pending[0][2], fragment(self._sequence, start, samples))
        seg.parts.append(part.index)
        self._next_part += 1
        self._pending = []
        events.append(part)

    def _close_segment(self, end: int, events: list[Event]) -> None:
        seg = self._segment
        assert seg is not None
        if self._pending:
            self._close_part(end, events)
        events.append(SegmentReady(seg.msn, (end - seg.start) / TIMESCALE, seg.init,
                                   seg.discontinuity, seg.wall_ms, tuple(seg.parts)))
        self._segment = None

    @property
    def next_part(self) -> int:
        """Index the next part will have (the preload hint)."""
        return self._next_part
