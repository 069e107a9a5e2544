"""Hand-over from worker threads to the asyncio loop, in batches.

A camera at 30 fps produces 30 results a second; waking the loop for each of them (a
write to its self-pipe) would cost more than the work itself with many cameras. Items
are appended under a lock and the loop is woken only when the queue was empty; it then
takes everything that piled up meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Outbox(Generic[T]):
    """Items put from any thread, drained on the loop by ``drain(batch)``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, drain: Callable[[list[T]], None]) -> None:
        self._loop = loop
        self._drain = drain
        self._items: list[T] = []
        self._lock = threading.Lock()
        self._scheduled = False

    def put(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the loop is closed: shutting down
            pass

    def _run(self) -> None:
        with self._lock:
            batch, self._items = self._items, []
            self._scheduled = False
        if batch:
            self._drain(batch)
