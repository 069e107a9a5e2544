"""Playback of a tiered segment that has a sidecar: only the fragments from the seek on.

Without this, playback of a segment on the object store fetched the whole object into the
read-through cache before its first frame, even to play its last seconds. With the
segment's fragment index (``argus_common.segindex``, kept beside it when it was tiered)
the reader gets a file-like object laid out as the file itself: the init section, then a
``free`` box standing in for every fragment before the one that holds the requested
instant (zeros, never fetched), then the fragments from there on. Those are fetched with
ranged GETs a few whole fragments at a time (``BLOCK_BYTES``), the next block while the
current one is demuxed, so memory stays at about two blocks and the first frame waits for
the init section and one fragment. Offsets stay those of the object, so a fragment whose
sample offsets are absolute (``base_data_offset``) reads as well as a moof-relative one.

The object has no ``seek``: PyAV demuxes it as a stream (a seekable fragmented MP4 is
scanned moof by moof at open, which would fetch every block first). Each GET runs on the
service's loop (the store's client lives there) and is waited for at most
``GET_TIMEOUT_S``; a failed, short or late read raises :class:`RangedReadError`, which ends
the playback (or skips the segment when it fails at open, as a missing file does).
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from argus_common.mp4boxes import MIN_FREE_BOX, free_box_header
from argus_common.mp4index import Fragment
from argus_common.rtsp.frames import VIDEO_CLOCK
from argus_common.segindex import SegmentIndex

# Ranged GETs of whole fragments up to this many bytes (a 1080p GOP of 1 s is ~0.5 MiB);
# a fragment larger than this is fetched in pieces of it.
BLOCK_BYTES = 2 * 2**20
# The longest a playback thread waits for one ranged GET.
GET_TIMEOUT_S = 30.0

ReadRange = Callable[[str, int, int], Coroutine[Any, Any, bytes]]


class RangedReadError(OSError):
    """A ranged GET of the segment failed, came back short or took too long."""


@dataclass(frozen=True)
class RangedSegment:
    """A tiered segment to play with ranged GETs: its object key, its sidecar, the store's
    ``read_range(key, first, last)`` and the loop that runs it."""

    key: str
    sidecar: SegmentIndex
    read_range: ReadRange
    loop: asyncio.AbstractEventLoop

    def open(self, offset_s: float) -> tuple[RangedFile, int]:
        """A reader from the fragment that holds ``offset_s`` (seconds after the first
        fragment) on, and where that fragment begins (90 kHz, from the first fragment)."""
        idx = self.sidecar.index
        frags = idx.fragments
        starts = [(f.start - frags[0].start) / idx.timescale for f in frags]
        # A millisecond of slack, as the reader's own start test has.
        first = max(0, bisect.bisect_right(starts, offset_s + 0.001) - 1)
        base = round((frags[first].start - frags[0].start) * VIDEO_CLOCK / idx.timescale)
        return RangedFile(self, first), base


def plan_blocks(start: int, frags: Sequence[Fragment], limit: int) -> list[tuple[int, int]]:
    """``[first, end)`` byte ranges from ``start`` to the end of the last fragment, cut at
    fragment boundaries, each at most ``limit`` bytes (a larger fragment in pieces)."""
    blocks: list[tuple[int, int]] = []
    first = start
    for frag in frags:
        end = frag.offset + frag.size
        if end - first > limit and frag.offset > first:
            blocks.append((first, frag.offset))
            first = frag.offset
        while end - first > limit:
            blocks.append((first, first + limit))
            first += limit
    if frags and frags[-1].offset + frags[-1].size > first:
        blocks.append((first, frags[-1].offset + frags[-1].size))
    return blocks


class RangedFile:
    """A forward-only file object (``read``) over a tiered segment, from fragment
    ``first`` on; see the module's docstring. Blocking: read it in a playback thread."""

    def __init__(self, segment: RangedSegment, first: int) -> None:
        idx = segment.sidecar.index
        frags = idx.fragments
        self._segment = segment
        self._pos = 0
        hole_end = frags[first].offset
        if hole_end - idx.init_size < MIN_FREE_BOX:  # nothing (or too little) to skip
            hole_end = idx.init_size
        self._hole = (idx.init_size, hole_end)
        skipped = hole_end - idx.init_size
        self._header = free_box_header(skipped) if skipped else b""
        # The first fragment alone, so that the first frame waits for no more than it.
        data = plan_blocks(hole_end, frags[first : first + 1], BLOCK_BYTES)
        data += plan_blocks(data[-1][1], frags[first + 1 :], BLOCK_BYTES)
        self._blocks = ([(0, idx.init_size)] if idx.init_size else []) + data
        self._starts = [b[0] for b in self._blocks]
        self._end = self._blocks[-1][1]
        self._held: tuple[int, bytes] | None = None
        self._pending: dict[int, concurrent.futures.Future[bytes]] = {}
        self.requests = 0
        self.fetched = 0
        self._closed = False
        for n in range(min(2, len(self._blocks))):  # the init section and the first fragment
            self._ask(n)

    def _ask(self, n: int) -> None:
        if n >= len(self._blocks) or n in self._pending:
            return
        if self._held is not None and self._held[0] == n:
            return
        first, end = self._blocks[n]
        try:
            self._pending[n] = asyncio.run_coroutine_threadsafe(
                self._segment.read_range(self._segment.key, first, end - 1), self._segment.loop
            )
        except RuntimeError as exc:  # the loop is closed: the service is stopping
            raise RangedReadError("the service is stopping") from exc
        self.requests += 1

    def _block(self, n: int) -> bytes:
        if self._held is not None and self._held[0] == n:
            return self._held[1]
        self._held = None  # the previous block goes before the next one arrives
        self._ask(n)
        future = self._pending.pop(n)
        first, end = self._blocks[n]
        try:
            data = future.result(GET_TIMEOUT_S)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise RangedReadError(f"ranged get of {self._segment.key} timed out") from exc
        except concurrent.futures.CancelledError as exc:
            raise RangedReadError(f"ranged get of {self._segment.key} cancelled") from exc
        except Exception as exc:
            raise RangedReadError(f"ranged get of {self._segment.key}: {exc}") from exc
        if len(data) != end - first:
            raise RangedReadError(f"ranged get of {self._segment.key}: short read")
        self.fetched += len(data)
        self._held = (n, data)
        self._ask(n + 1)  # read-ahead: the next block while this one is demuxed
        return data

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (b"" at the end)."""
        if self._closed:
            raise ValueError("read of a closed file")
        pos = self._pos
        if pos >= self._end:
            return b""
        size = self._end - pos if size < 0 else size
        hole_first, hole_end = self._hole
        if hole_first <= pos < hole_end:
            if pos - hole_first < len(self._header):
                out = self._header[pos - hole_first : pos - hole_first + size]
            else:
                out = bytes(min(size, hole_end - pos))
        else:
            n = bisect.bisect_right(self._starts, pos) - 1
            first, end = self._blocks[n]
            data = self._block(n)
            out = data[pos - first : min(end, pos + size) - first]
        self._pos += len(out)
        return out

    def close(self) -> None:
        """Cancel what is still being fetched and drop what is held (idempotent)."""
        self._closed = True
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._held = None
