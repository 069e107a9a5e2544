"""The event loop that reads every RTSP camera of this recorder, in a thread of its own.

One loop, not one thread per camera: an RTSP connection costs a socket and a protocol
object, the work per packet is Python either way, and one thread never fights the GIL. It
is not the service's loop either, so leases, HTTP and Redis never wait behind media, and
media never waits behind them. uvloop is used when installed (its transports cost about
half as much per read as asyncio's selector loop). Segment closes (fsync) run in a
separate thread, ``camera-close``, so a slow disk never stalls the reads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_lock = threading.Lock()
_instance: IngestLoop | None = None


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class IngestLoop:
    """A daemon thread running an event loop, and a single-thread pool for closes."""

    def __init__(self) -> None:
        self.loop = _new_loop()
        self.closer = ThreadPoolExecutor(1, thread_name_prefix="camera-close")
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="camera-ingest",
                                       daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        from argus_recording.worker_core import name_os_thread

        name_os_thread("camera-ingest")
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, None]) -> Future[None]:
        """Run ``coro`` on the loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on the loop soon (from any thread)."""
        self.loop.call_soon_threadsafe(fn)


def ingest_loop() -> IngestLoop:
    """The process's ingest loop, started on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = IngestLoop()
        return _instance
