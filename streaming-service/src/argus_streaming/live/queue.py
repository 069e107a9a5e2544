"""The bounded per-viewer queue: drop-oldest, resync at the next keyframe.

A viewer that reads too slowly never slows the source or other viewers and never grows
memory: when its queue is full, everything queued is dropped (those frames reference each
other, so dropping only the oldest would leave undecodable ones) and the viewer restarts at
the next keyframe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from argus_common.rtsp.frames import AccessUnit


class QueueClosed(Exception):
    """The queue was closed: its source stopped or failed."""


class ViewerQueue:
    """Access units for one viewer track. ``put`` never blocks; ``get`` waits."""

    def __init__(
        self,
        maxsize: int,
        *,
        keyframe_sync: bool = True,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.maxsize = maxsize
        self.keyframe_sync = keyframe_sync
        self.need_keyframe = keyframe_sync
        self.dropped = 0
        self._on_drop = on_drop
        self._items: deque[tuple[AccessUnit, bool]] = deque()
        # Replayed units still queued: a replayed GOP may be longer than ``maxsize`` (a 4 s
        # GOP is 120 frames), and only the live units after it count against the bound.
        self._replayed = 0
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    def prefill(self, units: list[AccessUnit]) -> None:
        """Queue a replayed GOP (flagged as replay) ahead of live frames."""
        if not units:
            return
        self._items.extend((u, True) for u in units)
        self._replayed += len(units)
        self.need_keyframe = False
        self._wake()

    def put(self, unit: AccessUnit) -> None:
        """Queue a live unit, dropping and resyncing when the viewer is behind."""
        if self._error is not None:
            return
        if self.keyframe_sync:
            if self.need_keyframe:
                if not unit.keyframe:
                    return
                self.need_keyframe = False
            if len(self._items) - self._replayed >= self.maxsize:
                n = len(self._items)
                self._items.clear()
                self._replayed = 0
                if not unit.keyframe:
                    self.need_keyframe = True
                    n += 1
                self._count_drop(n)
                if self.need_keyframe:
                    return
        elif len(self._items) - self._replayed >= self.maxsize:
            if self._items.popleft()[1]:
                self._replayed -= 1
            self._count_drop(1)
        self._items.append((unit, False))
        self._wake()

    def resync(self) -> None:
        """Skip to the next keyframe (the source lost packets)."""
        if self.keyframe_sync:
            self._count_drop(len(self._items))
            self._items.clear()
            self._replayed = 0
            self.need_keyframe = True

    def close(self, error: BaseException | None = None) -> None:
        """End the queue: ``get`` raises ``QueueClosed`` (or ``error``) once drained."""
        self._error = error or QueueClosed("source stopped")
        self._wake()

    async def get(self) -> tuple[AccessUnit, bool]:
        """The next unit and whether it is a replayed (cached) one."""
        while not self._items:
            if self._error is not None:
                raise self._error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if item[1]:
            self._replayed -= 1
        return item

    def _count_drop(self, n: int) -> None:
        if n <= 0:
            return
        self.dropped += n
        if self._on_drop is not None:
            self._on_drop(n)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
