"""The edge recording of one camera: the last ``minutes`` of its main stream, by GOP.

Frames are kept as the RTP payloads the live path already built (no copy, no re-encode),
with their capture wall-clock time (the burnt-in stamp). Everything runs on the
simulator's event loop (the hub calls ``record`` there), so no locking is needed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from argus_camsim.h264 import ParameterSets

# Frames further apart than this are two recordings (the encoder stopped in between).
SPAN_BREAK_MS = 2000


@dataclass(slots=True)
class EdgeFrame:
    """One access unit as recorded: RTP payloads, capture time, keyframe flag."""

    wall_ms: int
    key: bool
    payloads: list[bytes]
    nbytes: int


@dataclass
class Gop:
    """Frames from one keyframe to the next."""

    start_ms: int
    params: ParameterSets | None
    frames: list[EdgeFrame] = field(default_factory=list)

    @property
    def end_ms(self) -> int:
        return self.frames[-1].wall_ms if self.frames else self.start_ms


class EdgeStore:
    """A bounded buffer of whole GOPs: the oldest go when the newest is ``minutes`` ahead."""

    def __init__(self, minutes: float, fps: int) -> None:
        self.keep_ms = int(minutes * 60_000)
        self.fps = fps
        self.params: ParameterSets | None = None
        self.size: tuple[int, int] = (0, 0)
        self._gops: list[Gop] = []
        self._starts: list[int] = []
        self.bytes = 0

    def record(
        self,
        payloads: list[bytes],
        keyframe: bool,
        wall_ms: int,
        params: ParameterSets | None,
        size: tuple[int, int],
    ) -> None:
        """Keep one access unit (frames before the first keyframe are useless: dropped)."""
        if params is not None:
            self.params = params
        self.size = size
        if keyframe:
            self._gops.append(Gop(wall_ms, params or self.params))
            self._starts.append(wall_ms)
        elif not self._gops:
            return
        nbytes = sum(map(len, payloads))
        self._gops[-1].frames.append(EdgeFrame(wall_ms, keyframe, payloads, nbytes))
        self.bytes += nbytes
        self._trim(wall_ms)

    def _trim(self, now_ms: int) -> None:
        drop = 0
        while drop + 1 < len(self._gops) and self._gops[drop + 1].start_ms < now_ms - self.keep_ms:
            self.bytes -= sum(f.nbytes for f in self._gops[drop].frames)
            drop += 1
        if drop:
            del self._gops[:drop]
            del self._starts[:drop]

    @property
    def earliest_ms(self) -> int | None:
        return self._starts[0] if self._starts else None

    @property
    def latest_ms(self) -> int | None:
        return self._gops[-1].end_ms if self._gops else None

    def spans(self) -> list[tuple[int, int]]:
        """Continuous stretches held, ``(first frame, last frame + one interval)`` in ms."""
        out: list[tuple[int, int]] = []
        step = 1000 // max(1, self.fps)
        for gop in self._gops:
            if out and gop.start_ms - out[-1][1] <= SPAN_BREAK_MS:
                out[-1] = (out[-1][0], gop.end_ms + step)
            else:
                out.append((gop.start_ms, gop.end_ms + step))
        return out

    def gop_at(self, ms: int) -> Gop | None:
        """The GOP holding ``ms`` (the last one starting at or before it), else the oldest
        one; None when nothing is held."""
        if not self._gops:
            return None
        return self._gops[max(bisect.bisect_right(self._starts, ms) - 1, 0)]

    def gop_after(self, start_ms: int) -> Gop | None:
        """The first GOP starting after ``start_ms`` (one still held)."""
        i = bisect.bisect_right(self._starts, start_ms)
        return self._gops[i] if i < len(self._gops) else None

    def frames(self, start_ms: int, end_ms: int | None) -> Iterator[tuple[Gop, EdgeFrame]]:
        """Frames from the keyframe at or before ``start_ms`` up to ``end_ms`` (None: up to
        the newest), GOP by GOP; safe while frames are added and old GOPs dropped."""
        gop = self.gop_at(start_ms)
        sent = 0
        while gop is not None:
            # The newest GOP may still grow: read its frames by index.
            while sent < len(gop.frames):
                frame = gop.frames[sent]
                if end_ms is not None and frame.wall_ms >= end_ms:
                    return
                sent += 1
                yield gop, frame
            if not self._gops or gop is self._gops[-1]:
                return
            gop, sent = self.gop_after(gop.start_ms), 0
