"""One worker per recorded camera: connect, demux, remux into segments, reconnect.

RTSP cameras with H.264 video are read by the shared RTSP client on the recorder's ingest
loop (rtsp_worker.py, ingest_loop.py), which costs a fraction of FFmpeg's demuxer. RTMP
publishers and H.265 cameras keep a thread each running PyAV (``PyAvWorker``), which
releases the GIL while it reads and muxes. Workers talk to the service's loop only
through ``WorkerHooks`` (thread-safe callbacks).

This module holds ``CameraWorker`` (start, stop, the fallback to PyAV, the handover's
standby and cut); the shared per-camera state is in worker_core.py, the PyAV write loop in
pyav_worker.py (their names are importable from here too).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import structlog

from argus_recording.cameras import CameraConfig
from argus_recording.fencing import CameraLock
from argus_recording.handoff import Handoff
from argus_recording.ingest_loop import ingest_loop
from argus_recording.pyav_worker import PyAvWorker
from argus_recording.rtsp_worker import record_rtsp
from argus_recording.window import EventWindow
from argus_recording.worker_core import (
    WorkerCore,
    WorkerHooks,
    WorkerSettings,
    name_os_thread,
)

__all__ = [
    "CameraWorker",
    "PyAvWorker",
    "WorkerCore",
    "WorkerHooks",
    "WorkerSettings",
    "name_os_thread",
]

log = structlog.get_logger("argus.recording.worker")


class CameraWorker:
    """Records one camera until ``stop()``: RTSP H.264 on the shared ingest loop
    (rtsp_worker.py), anything else (RTMP, H.265) in a PyAV thread of its own."""

    def __init__(
        self,
        camera: CameraConfig,
        settings: WorkerSettings,
        hooks: WorkerHooks,
        window: EventWindow,
        standby: bool = False,
    ) -> None:
        self.camera = camera
        self.core = WorkerCore(camera, settings, hooks, window)
        # Held while this worker runs (fencing.py): a second writer of the camera waits.
        # A worker started in ``standby`` (a handover) connects first and takes the lock
        # when told to write (handoff.py).
        self.lock = CameraLock(settings.root, camera.id, settings.instance_id)
        self.standby = standby
        # A standby worker is not ready before its camera's recent events are known
        # (crew.py replays them into the window for an events-mode camera).
        self.events_known = threading.Event()
        self.events_known.set()
        self._stop_flag = threading.Event()
        self._wake_flag = threading.Event()
        self._done = threading.Event()
        self._thread: PyAvWorker | None = None
        self._stop_async: Callable[[], None] | None = None
        self._wake_async: Callable[[], None] | None = None

    def start(self) -> None:
        """Start recording (returns at once)."""
        if urlsplit(self.camera.stream_url).scheme.lower() == "rtsp":
            self._start_async()
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        if self.core.handoff is None:  # a fallback keeps the RTSP ingest's standby state
            self.core.handoff = Handoff(self.lock, self.standby, self._pre_roll_ms())
        self._thread = PyAvWorker(self.core, self._stop_flag, self._wake_flag, self.lock)
        self._thread.start()

    def _start_async(self) -> None:
        self.core.handoff = Handoff(self.lock, self.standby, self._pre_roll_ms())
        loop = ingest_loop()
        stop, wake = asyncio.Event(), asyncio.Event()  # bound to the loop on first await

        def stop_both() -> None:
            stop.set()
            wake.set()

        self._stop_async = lambda: loop.call(stop_both)
        self._wake_async = lambda: loop.call(wake.set)
        fell_back: list[bool] = []

        async def main() -> None:
            structlog.contextvars.bind_contextvars(
                service="recording-service", camera_id=self.camera.id
            )
            try:
                if self.standby or self.lock.held or await self.lock.wait(stop.is_set):
                    await record_rtsp(self.core, stop, wake, lambda: fell_back.append(True))
            except Exception:
                log.exception("worker_failed")
            finally:
                if fell_back and not self._stop_flag.is_set():
                    self._start_thread()  # the thread keeps the lock and lets it go
                else:
                    self.lock.release()
                    log.info("worker_stopped")
                    self._done.set()

        loop.submit(main())

    def _pre_roll_ms(self) -> float:
        """What a standby buffers before it is ready (events mode: the pre-roll)."""
        events = self.camera.recording_mode == "events"
        return self.core.settings.pre_roll_s * 1000 if events else 0.0

    def stop(self) -> None:
        """Ask the worker to finish its segment and exit (within a read timeout)."""
        self._stop_flag.set()
        self._wake_flag.set()
        if self._stop_async is not None:
            self._stop_async()

    def wake(self) -> None:
        """Reconnect now if waiting to (an RTMP publisher is back)."""
        self._wake_flag.set()
        if self._wake_async is not None:
            self._wake_async()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the worker has stopped and its last segment is announced."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return
        self._done.wait(timeout)
        thread = self._thread  # it may have fallen back to PyAV meanwhile
        if thread is not None:
            thread.join(timeout)

    def is_alive(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._stop_async is not None and not self._done.is_set()

    # -- handover (handoff.py) -------------------------------------------------------------
    @property
    def can_cut(self) -> bool:
        """Whether this worker can end its recording at a keyframe on request."""
        return self.core.handoff is not None

    @property
    def handover_ready(self) -> bool:
        """Standby: a keyframe has been received (events mode: a pre-roll's worth before
        it, and the camera's recent events are known)."""
        handoff = self.core.handoff
        return handoff is not None and handoff.ready and self.events_known.is_set()

    def cut(self) -> None:
        if self.core.handoff is not None:
            self.core.handoff.ask_cut()

    def cut_at(self) -> tuple[bool, float | None]:
        handoff = self.core.handoff
        return (False, None) if handoff is None else (handoff.cut_done, handoff.cut_ms)

    def go(self, t_ms: float | None) -> None:
        if self.core.handoff is not None:
            self.core.handoff.go(t_ms)

    @property
    def holds_lock(self) -> bool:
        """Whether this worker holds the camera's writer lock (no one else writes)."""
        return self.lock.held

    @property
    def stopping(self) -> bool:
        return self._stop_flag.is_set()

    @property
    def up(self) -> bool:
        """Whether media is flowing from the camera right now."""
        return self.core.up

    @property
    def last_heard(self) -> float:
        """When the camera last sent video (``time.monotonic()``; the start until then)."""
        return self.core.last_heard
