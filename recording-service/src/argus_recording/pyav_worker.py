"""The PyAV ingest: one thread per camera for RTMP publishers and RTSP streams that are
not H.264 (PyAV releases the GIL while it reads and muxes): connect, demux, stamp, remux
into segments, reconnect with backoff. A handover's standby and cut work as on the RTSP
ingest (handoff.py): the same ``Handoff`` sits between the stamper and the recorder."""

from __future__ import annotations

import threading
import time

import structlog

from argus_recording.fencing import CameraLock
from argus_recording.ingest import IngestError, Source, open_source, rtsp_answers
from argus_recording.modes import WriterContext
from argus_recording.stamping import Stamper
from argus_recording.worker_core import WorkerCore, name_os_thread

log = structlog.get_logger("argus.recording.worker")


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
            # A standby (a handover, handoff.py) connects first and takes the lock itself.
            handoff = self.core.handoff
            standby = handoff is not None and handoff.standby
            if self.lock.held or standby or self.lock.wait_blocking(self._stop_flag.is_set):
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
        handoff = core.handoff
        if handoff is not None:
            handoff.new_session()
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
                if handoff is None:
                    recorded = recorder.on_packet(item)
                else:
                    recorded = handoff.feed(item, recorder, stamper.clock)
                if not recorded:
                    core.dropped(recorder.writer is None)
        finally:
            recorder.stop()
