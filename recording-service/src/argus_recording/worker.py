"""One worker per recorded camera: connect, demux, remux into segments, reconnect.

RTSP cameras with H.264 video are read by the shared RTSP client on the recorder's ingest
loop (rtsp_worker.py, ingest_loop.py), which costs a fraction of FFmpeg's demuxer. RTMP
publishers and H.265 cameras keep a thread each running PyAV (``PyAvWorker``), which
releases the GIL while it reads and muxes. Workers talk to the service's loop only
through ``WorkerHooks`` (thread-safe callbacks).
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import structlog

from argus_common.addresses import Network
from argus_recording.cameras import CameraConfig
from argus_recording.fencing import CameraLock
from argus_recording.fragments import FragmentWriter
from argus_recording.handoff import Handoff
from argus_recording.ingest import IngestError, Source, open_source, rtsp_answers
from argus_recording.ingest_loop import ingest_loop
from argus_recording.layout import DirMaker
from argus_recording.metrics import BYTES_WRITTEN, DROPPED_PACKETS, LAG, RECONNECTS
from argus_recording.modes import Context, ContinuousRecorder, EventRecorder, WriterContext
from argus_recording.packets import Item
from argus_recording.rtsp_worker import record_rtsp
from argus_recording.salvage import salvage
from argus_recording.stamping import Stamper
from argus_recording.window import EventWindow
from argus_recording.writer import ClosedSegment, SegmentWriter

log = structlog.get_logger("argus.recording.worker")


def name_os_thread(name: str) -> None:
    """Give the OS thread a name (``top -H``, /proc/<pid>/task/*/comm)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


class WorkerHooks(Protocol):
    """Callbacks into the service; called from the worker thread, must not block."""

    def segment_closed(self, segment: ClosedSegment) -> None: ...

    def stream_state(self, camera_id: int, up: bool, reason: str) -> None: ...


@dataclass(frozen=True)
class WorkerSettings:
    root: Path
    segment_s: float
    pre_roll_s: float
    event_max_s: float
    backoff_s: tuple[float, ...]
    probe_interval_s: float
    max_clock_drift_ms: float
    durable: bool
    instance_id: str = "recorder"
    allowed_networks: tuple[Network, ...] = ()  # CAMERA_ALLOWED_NETWORKS (empty: any)


class WorkerCore:
    """What both ingests share for one camera: state, metrics, segment hooks."""

    def __init__(
        self,
        camera: CameraConfig,
        settings: WorkerSettings,
        hooks: WorkerHooks,
        window: EventWindow,
    ) -> None:
        self.camera = camera
        self.settings = settings
        self.hooks = hooks
        self.window = window
        self.state: bool | None = None
        self.session_up = False
        # When the camera last sent video (monotonic; the start until then): the
        # supervisor's self-fencing asks it (supervisor.py).
        self.last_heard = time.monotonic()
        # Standby and cut of a make-before-break handover (handoff.py; RTSP ingest only).
        self.handoff: Handoff | None = None
        self._warned_audio = False
        self.dirs = DirMaker(settings.root, settings.durable)
        label = str(camera.id)
        self._bytes = BYTES_WRITTEN.labels(label)
        self._lag = LAG.labels(label)
        self.reconnects = RECONNECTS.labels(label)
        self._dropped = {
            r: DROPPED_PACKETS.labels(label, r) for r in ("before_keyframe", "out_of_order")
        }

    @property
    def up(self) -> bool:
        return self.state is True

    def set_state(self, up: bool, reason: str, detail: str = "") -> None:
        if self.state is up:
            return
        self.state = up
        if up:
            log.info("stream_up", camera_id=self.camera.id)
        else:
            log.warning("stream_down", camera_id=self.camera.id, reason=reason, detail=detail)
        self.hooks.stream_state(self.camera.id, up, reason)

    def backoff_delay(self, attempt: int) -> float:
        steps = self.settings.backoff_s
        return steps[min(attempt, len(steps) - 1)]

    def audio_dropped(self, codec: str) -> None:
        if not self._warned_audio:
            self._warned_audio = True
            log.warning(
                "audio_dropped",
                camera_id=self.camera.id,
                codec=codec,
                detail="MP4 cannot hold this audio codec; video only",
            )

    def on_keyframe(self, item: Item) -> None:
        """A keyframe was received: media is flowing."""
        if self.handoff is not None and self.handoff.standby:
            return  # not recording yet: no stream.up from a standby worker
        if not self.session_up:
            self.session_up = True
            self.set_state(True, "recording")
        self._lag.set(max(0.0, (item.recv_ms - item.wall_ms) / 1000.0))

    def dropped(self, before_keyframe: bool) -> None:
        self._dropped["before_keyframe" if before_keyframe else "out_of_order"].inc()

    def make_recorder(self, ctx: Context) -> ContinuousRecorder | EventRecorder:
        if self.camera.recording_mode == "events":
            return EventRecorder(
                ctx,
                self.window,
                self.settings.pre_roll_s * 1000,
                self.settings.event_max_s * 1000,
            )
        return ContinuousRecorder(ctx, self.settings.segment_s * 1000)

    def closed(self, segment: ClosedSegment) -> None:
        self._bytes.inc(segment.bytes)
        self.hooks.segment_closed(segment)

    def failed(self, writer: SegmentWriter | FragmentWriter, exc: BaseException) -> None:
        log.error("segment_close_failed", path=writer.relpath, error=type(exc).__name__)
        kind = "event" if writer.kind == "event" else "continuous"
        segment = salvage(
            self.settings.root, writer.relpath, self.camera.id, kind, self.settings.durable
        )
        if segment is not None:
            self.closed(segment)


class PyAvWorker(threading.Thread):
    """Records one camera through PyAV (RTMP, and RTSP streams that are not H.264)."""

    def __init__(
        self,
        core: WorkerCore,
        stop_flag: threading.Event,
        wake_flag: threading.Event,
        lock: CameraLock,
    ) -> None:
        super().__init__(name=f"camera-{core.camera.id}", daemon=True)
        self.core = core
        self.lock = lock
        self.camera = core.camera
        self.settings = core.settings
        self._stop_flag = stop_flag
        self._wake_flag = wake_flag

    def run(self) -> None:
        name_os_thread(self.name)
        structlog.contextvars.bind_contextvars(
            service="recording-service", camera_id=self.camera.id
        )
        try:
            if self.lock.held or self.lock.wait_blocking(self._stop_flag.is_set):
                self._run()
        finally:
            self.lock.release()
            log.info("worker_stopped")

    def _run(self) -> None:
        core = self.core
        attempt = 0
        while not self._stop_flag.is_set():
            if attempt:
                core.reconnects.inc()
            try:
                source = open_source(
                    self.camera.source_url(),
                    self.camera.connect_timeout_s,
                    self.camera.read_timeout_s,
                )
            except IngestError as exc:
                log.debug("connect_failed", reason=exc.reason, detail=exc.detail)
                core.set_state(False, exc.reason, exc.detail)
                self._backoff(attempt, exc.unreachable)
                attempt += 1
                continue
            error: IngestError | None = None
            core.session_up = False
            try:
                self._record(source)
            except IngestError as exc:
                error = exc
            except Exception:
                log.exception("worker_failed")
                error = IngestError("error", "internal error")
            finally:
                source.close()
            if self._stop_flag.is_set():
                if core.state:
                    core.set_state(False, "stopping")
                break
            if error is not None:
                core.set_state(False, error.reason, error.detail)
            attempt = 1 if core.session_up else attempt + 1
            self._backoff(attempt - 1, error.unreachable if error else True)

    def _backoff(self, attempt: int, probe: bool) -> None:
        """Wait the next backoff step; return early when stopped, woken, or when a camera
        that stopped answering RTSP probes answers again (so a camera that is back is
        recorded within seconds, while one that answers but fails keeps backing off)."""
        delay = self.core.backoff_delay(attempt)
        deadline = time.monotonic() + delay
        url = self.camera.source_url()
        log.debug("backoff", attempt=attempt, delay_s=delay, probe=probe)
        probe_timeout = min(1.0, self.camera.connect_timeout_s)
        seen_down = False
        while not self._stop_flag.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake_flag.wait(min(self.settings.probe_interval_s, remaining)):
                self._wake_flag.clear()
                return
            if not probe or deadline - time.monotonic() < 0.2:
                continue
            if not rtsp_answers(url, probe_timeout):
                seen_down = True
            elif seen_down:
                log.debug("probe_answered")
                return

    def _record(self, source: Source) -> None:
        """Record from an open source until stopped or the stream fails. The core's
        ``session_up`` tells whether it got going (a reconnect then starts from the first
        backoff step)."""
        core = self.core
        if source.dropped_audio:
            core.audio_dropped(source.dropped_audio)
        stamper = Stamper(source.video, source.audio, self.settings.max_clock_drift_ms)
        ctx = WriterContext(
            camera_id=self.camera.id,
            root=self.settings.root,
            dirs=core.dirs,
            durable=self.settings.durable,
            video_in=source.video,
            audio_in=source.audio,
            clock=stamper.clock,
            on_closed=core.closed,
            on_failed=core.failed,
        )
        recorder = core.make_recorder(ctx)
        stop = self._stop_flag
        try:
            for packet in source.packets():
                if stop.is_set():
                    break
                recv_ms = time.time() * 1000.0
                item = stamper.stamp(packet, recv_ms)
                if item is None:
                    continue
                if stamper.jumped:
                    recorder.stop()  # finish what we have; start over at a keyframe
                core.last_heard = time.monotonic()
                if item.key:
                    core.on_keyframe(item)
                if not recorder.on_packet(item):
                    core.dropped(recorder.writer is None)
        finally:
            recorder.stop()


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
        self.core.handoff = None  # PyAV ingest: no standby, no cut (it waits for the lock)
        self._thread = PyAvWorker(self.core, self._stop_flag, self._wake_flag, self.lock)
        self._thread.start()

    def _start_async(self) -> None:
        self.core.handoff = Handoff(self.lock, self.standby)
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
        return self.core.handoff is not None and self._thread is None

    @property
    def handover_ready(self) -> bool:
        """Standby: a keyframe has been received."""
        return self.core.handoff is not None and self.core.handoff.ready

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
