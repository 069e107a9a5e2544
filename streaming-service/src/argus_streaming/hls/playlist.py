"""The live LL-HLS media playlist of a session, kept on the event loop.

The writer thread announces parts and segments once their files exist; this object lists
them and wakes the requests that wait for them: blocking playlist reloads
(``_HLS_msn``/``_HLS_part``) and the preload-hinted part. The playlist is rendered per
request because every URI carries the viewer's media token.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argus_streaming.hls.segmenter import Event, InitReady, PartReady, SegmentReady
from argus_streaming.hls.writer import init_name, part_name, segment_name

# Parts are listed for the segments this close to the live edge (the spec says to drop
# them past three target durations).
_PART_SEGMENTS = 3


@dataclass(frozen=True, slots=True)
class Part:
    index: int
    msn: int
    position: int  # index within its segment
    duration: float
    independent: bool


@dataclass
class _Segment:
    msn: int
    init: int
    discontinuity: bool
    parts: list[Part] = field(default_factory=list)
    done: SegmentReady | None = None


class LivePlaylist:
    """Segments and parts of one session; all methods run on the event loop."""

    def __init__(self, segment_s: float, part_s: float, list_size: int) -> None:
        self.part_s = part_s
        self.list_size = list_size
        self.target = max(1, math.ceil(segment_s))
        self.segments: deque[_Segment] = deque()
        self.open: _Segment | None = None
        self.discontinuity_sequence = 0
        self.next_part = 0  # index of the part that will come next (preload hint)
        self.closed = False
        self.waiting = 0  # requests blocked on this playlist
        self._init = 0
        self._discontinuity = False  # a new init section: the next segment starts one
        self._changed = asyncio.Event()

    # -- updates from the writer -------------------------------------------------------
    def publish(self, event: Event) -> None:
        """Take one announcement of the writer (call it on the loop)."""
        if self.closed:
            return
        if isinstance(event, InitReady):
            self._init = event.index
            self._discontinuity = event.index > 0
        elif isinstance(event, PartReady):
            if self.open is None or self.open.msn != event.msn:
                self.open = _Segment(event.msn, self._init, self._discontinuity)
                self._discontinuity = False
            self.open.parts.append(Part(event.index, event.msn, len(self.open.parts),
                                        event.duration, event.independent))
            self.next_part = event.index + 1
        elif isinstance(event, SegmentReady):
            seg = self.open if self.open is not None and self.open.msn == event.msn else (
                _Segment(event.msn, event.init, event.discontinuity))
            seg.done = event
            self.open = None
            self.segments.append(seg)
            self.target = max(self.target, math.ceil(event.duration))
            while len(self.segments) > self.list_size:
                if self.segments.popleft().discontinuity:
                    self.discontinuity_sequence += 1
        self._wake()

    def close(self) -> None:
        """The session ended: wake every waiter."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- queries -----------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether one segment is complete (hls.js needs one before it starts)."""
        return bool(self.segments)

    @property
    def next_msn(self) -> int:
        """Media sequence number of the segment being built."""
        if self.open is not None:
            return self.open.msn
        return self.segments[-1].msn + 1 if self.segments else 0

    def last_part(self) -> tuple[int, int] | None:
        """``(msn, position)`` of the newest part."""
        if self.open is not None and self.open.parts:
            return self.open.msn, self.open.parts[-1].position
        for seg in reversed(self.segments):
            if seg.parts:
                return seg.msn, seg.parts[-1].position
        return None

    def has(self, msn: int, part: int | None) -> bool:
        """Whether the playlist holds segment ``msn`` (whole) or its part ``part``.

        A part past the end of its segment is the first part of the next one, which the
        tuple comparison gives for free.
        """
        if part is None:
            return bool(self.segments) and self.segments[-1].msn >= msn
        last = self.last_part()
        return last is not None and last >= (msn, part)

    def has_part(self, index: int) -> bool:
        return index < self.next_part

    async def wait(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (bounded) until ``condition()`` holds or the session ends; returns it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        self.waiting += 1
        try:
            while not condition() and not self.closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        await self._changed.wait()
                except TimeoutError:
                    break
        finally:
            self.waiting -= 1
        return condition()

    # -- rendering ---------------------------------------------------------------------
    def render(self, query: str) -> str:
        """The playlist, with ``query`` (``?token=…``) after every URI."""
        hold_back = 3 * self.part_s
        lines = [
            "#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{self.target}",
            f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={hold_back:.3f}",
            f"#EXT-X-PART-INF:PART-TARGET={self.part_s:.3f}",
            f"#EXT-X-MEDIA-SEQUENCE:{self.segments[0].msn if self.segments else 0}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}",
        ]
        with_parts = {s.msn for s in list(self.segments)[-_PART_SEGMENTS:]}
        init: int | None = None
        for seg in [*self.segments, *([self.open] if self.open is not None else [])]:
            if seg.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            if seg.init != init:
                init = seg.init
                lines.append(f'#EXT-X-MAP:URI="{init_name(init)}{query}"')
            done = seg.done
            if done is None:  # the open segment: its parts so far
                lines += [self._part_line(p, query) for p in seg.parts]
                continue
            stamp = datetime.fromtimestamp(done.wall_ms / 1000, UTC)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp.isoformat(timespec='milliseconds')}")
            if seg.msn in with_parts:
                lines += [self._part_line(p, query) for p in seg.parts]
            lines += [f"#EXTINF:{done.duration:.5f},", f"{segment_name(seg.msn)}{query}"]
        lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{part_name(self.next_part)}{query}"')
        return "\n".join(lines) + "\n"

    @staticmethod
    def _part_line(p: Part, query: str) -> str:
        independent = ",INDEPENDENT=YES" if p.independent else ""
        return (f'#EXT-X-PART:DURATION={p.duration:.5f},URI="{part_name(p.index)}{query}"'
                f"{independent}")
