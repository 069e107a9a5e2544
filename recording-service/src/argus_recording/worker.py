"""One thread per recorded camera: connect, demux, remux into segments, reconnect.

PyAV releases the GIL while it reads from the socket and while it muxes, so a thread per
camera costs little; the per-packet Python work is kept to a few attribute reads. The
thread talks to the asyncio loop only through ``WorkerHooks`` (thread-safe callbacks).
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog

from argus_recording.cameras import CameraConfig
from argus_recording.clock import MediaClock
from argus_recording.ingest import IngestError, Source, open_source, rtsp_answers
from argus_recording.layout import DirMaker
from argus_recording.metrics import BYTES_WRITTEN, DROPPED_PACKETS, LAG, RECONNECTS
from argus_recording.modes import ContinuousRecorder, EventRecorder, WriterContext
from argus_recording.salvage import salvage
from argus_recording.stamping import Stamper
from argus_recording.window import EventWindow
from argus_recording.writer import ClosedSegment, SegmentWriter

log = structlog.get_logger("argus.recording.worker")


def _name_os_thread(name: str) -> None:
    """Give the OS thread the camera's name (``top -H``, /proc/<pid>/task/*/comm)."""
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


class CameraWorker(threading.Thread):
    """Records one camera until ``stop()``."""

    def __init__(
        self, camera: CameraConfig, settings: WorkerSettings, hooks: WorkerHooks,
        window: EventWindow,
    ) -> None:
        super().__init__(name=f"camera-{camera.id}", daemon=True)
        self.camera = camera
        self.settings = settings
        self.hooks = hooks
        self.window = window
        self._stop_flag = threading.Event()
        self._wake_flag = threading.Event()
        self._state: bool | None = None
        self._session_up = False
        self._warned_audio = False
        self._dirs = DirMaker(settings.root, settings.durable)
        label = str(camera.id)
        self._bytes = BYTES_WRITTEN.labels(label)
        self._lag = LAG.labels(label)
        self._reconnects = RECONNECTS.labels(label)
        self._dropped = {
            r: DROPPED_PACKETS.labels(label, r) for r in ("before_keyframe", "out_of_order")
        }

    def stop(self) -> None:
        """Ask the thread to finish its segment and exit (within a read timeout)."""
        self._stop_flag.set()
        self._wake_flag.set()

    def wake(self) -> None:
        """Reconnect now if waiting to (an RTMP publisher is back)."""
        self._wake_flag.set()

    @property
    def stopping(self) -> bool:
        return self._stop_flag.is_set()

    @property
    def up(self) -> bool:
        """Whether media is flowing from the camera right now."""
        return self._state is True

    def run(self) -> None:
        _name_os_thread(self.name)
        structlog.contextvars.bind_contextvars(
            service="recording-service", camera_id=self.camera.id
        )
        attempt = 0
        while not self._stop_flag.is_set():
            if attempt:
                self._reconnects.inc()
            try:
                source = open_source(
                    self.camera.source_url(), self.camera.connect_timeout_s,
                    self.camera.read_timeout_s,
                )
            except IngestError as exc:
                log.debug("connect_failed", reason=exc.reason, detail=exc.detail)
                self._set_state(False, exc.reason, exc.detail)
                self._backoff(attempt, exc.unreachable)
                attempt += 1
                continue
            error: IngestError | None = None
            self._session_up = False
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
                if self._state:
                    self._set_state(False, "stopping")
                break
            if error is not None:
                self._set_state(False, error.reason, error.detail)
            attempt = 1 if self._session_up else attempt + 1
            self._backoff(attempt - 1, error.unreachable if error else True)
        log.info("worker_stopped")

    def _set_state(self, up: bool, reason: str, detail: str = "") -> None:
        if self._state is up:
            return
        self._state = up
        if up:
            log.info("stream_up")
        else:
            log.warning("stream_down", reason=reason, detail=detail)
        self.hooks.stream_state(self.camera.id, up, reason)

    def _backoff(self, attempt: int, probe: bool) -> None:
        """Wait the next backoff step; return early when stopped, woken, or when a camera
        that stopped answering RTSP probes answers again (so a camera that is back is
        recorded within seconds, while one that answers but fails keeps backing off)."""
        steps = self.settings.backoff_s
        delay = steps[min(attempt, len(steps) - 1)]
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

    def _recorder(self, source: Source, clock: MediaClock) -> ContinuousRecorder | EventRecorder:
        ctx = WriterContext(
            camera_id=self.camera.id, root=self.settings.root, dirs=self._dirs,
            durable=self.settings.durable, video_in=source.video, audio_in=source.audio,
            clock=clock, on_closed=self._closed, on_failed=self._failed,
        )
        if self.camera.recording_mode == "events":
            return EventRecorder(
                ctx, self.window, self.settings.pre_roll_s * 1000,
                self.settings.event_max_s * 1000,
            )
        return ContinuousRecorder(ctx, self.settings.segment_s * 1000)

    def _closed(self, segment: ClosedSegment) -> None:
        self._bytes.inc(segment.bytes)
        self.hooks.segment_closed(segment)

    def _failed(self, writer: SegmentWriter, exc: BaseException) -> None:
        log.error("segment_close_failed", path=writer.relpath, error=type(exc).__name__)
        kind = "event" if writer.kind == "event" else "continuous"
        segment = salvage(self.settings.root, writer.relpath, self.camera.id, kind,
                          self.settings.durable)
        if segment is not None:
            self._closed(segment)

    def _record(self, source: Source) -> None:
        """Record from an open source until stopped or the stream fails. ``_session_up``
        tells whether it got going (a reconnect then starts from the first backoff step)."""
        if source.dropped_audio and not self._warned_audio:
            self._warned_audio = True
            log.warning("audio_dropped", codec=source.dropped_audio,
                        detail="MP4 cannot hold this audio codec; video only")
        stamper = Stamper(source.video, source.audio, self.settings.max_clock_drift_ms)
        recorder = self._recorder(source, stamper.clock)
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
                if item.key:
                    if not self._session_up:
                        self._session_up = True
                        self._set_state(True, "recording")
                    self._lag.set(max(0.0, (recv_ms - item.wall_ms) / 1000.0))
                if not recorder.on_packet(item):
                    reason = "before_keyframe" if recorder.writer is None else "out_of_order"
                    self._dropped[reason].inc()
        finally:
            recorder.stop()
