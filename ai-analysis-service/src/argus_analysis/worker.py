"""One thread per analysed camera: connect, decode, analyse, reconnect with backoff.

PyAV releases the GIL while it reads and decodes and OpenCV while it computes, so the
cameras' threads run in parallel. A thread talks to the loop only through its sink (an
``Outbox``): one ``Output`` per analysed frame, carrying the decoded frame itself only
when it started a motion event (for the snapshot).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from argus_analysis.cameras import CameraConfig
from argus_analysis.clock import WallClock
from argus_analysis.detect.debounce import Transition
from argus_analysis.metrics import DECODER_ERRORS, FRAMES_DROPPED, RECONNECTS
from argus_analysis.objects.engine import ObjectEngine, ObjectJob
from argus_analysis.pipeline import Analyzer, FrameAnalysis
from argus_analysis.source import DecoderOptions, SourceError, VideoSource, open_source
from argus_common.addresses import AddressRefused, Network, pinned_url
from argus_common.media import is_stream
from argus_common.retry import Backoff

log = structlog.get_logger("argus.analysis.worker")


@dataclass
class Output:
    """What a worker (or a job) hands to the loop: a frame's analysis, or (``analysis``
    None) the end of a connection with the transition that closed its event, if any.
    ``job`` outputs are stored only: no live frames, no events to management."""

    camera_id: int | None
    session_id: str
    analysis: FrameAnalysis | None
    transition: Transition | None
    frame: Any = None  # the decoded frame of a motion start (snapshot)
    decode_in: float = 0.0
    job: bool = False
    deferred: bool = False  # the frame went to the object engine: results come from there


@dataclass(frozen=True)
class WorkerOptions:
    decoder: DecoderOptions
    prefer_sub: bool
    backoff_s: tuple[float, ...]
    max_lag_s: float
    objects: ObjectEngine | None = None
    # CAMERA_ALLOWED_NETWORKS (empty: anywhere but argus_common.addresses' forbidden ranges)
    allowed_networks: tuple[Network, ...] = ()


def pinned_source_url(url: str, allowed_networks: tuple[Network, ...] = ()) -> str:
    """A camera stream URL with its host's checked address, resolved now (issue 16, finding
    6): FFmpeg resolves names itself, so it is given the address that passed the check and
    a name cannot be rebound in between. Files and other inputs pass unchanged."""
    if not is_stream(url):
        return url
    try:
        return pinned_url(url, list(allowed_networks) or None)
    except AddressRefused as exc:
        raise SourceError("refused", f"camera host refused: {exc}") from None


class CameraWorker(threading.Thread):
    """Analyses one camera until ``stop()``."""

    def __init__(
        self, camera: CameraConfig, analyzer: Analyzer, options: WorkerOptions,
        sink: Callable[[Output], None],
    ) -> None:
        super().__init__(name=f"analysis-{camera.id}", daemon=True)
        self.camera = camera
        self.analyzer = analyzer
        self.options = options
        self.sink = sink
        self.frames = 0  # analysed, read by the loop for the fps gauge
        self.connected = False
        self._stop_flag = threading.Event()
        label = str(camera.id)
        self._dropped = FRAMES_DROPPED.labels(label)
        self._decoder_errors = DECODER_ERRORS.labels(label)
        self._reconnects = RECONNECTS.labels(label)

    def stop(self) -> None:
        """Ask the thread to end (within the camera's read timeout)."""
        self._stop_flag.set()

    @property
    def stopping(self) -> bool:
        return self._stop_flag.is_set()

    def run(self) -> None:
        attempt = 0
        while not self.stopping:
            camera = self.camera
            try:
                source = open_source(
                    pinned_source_url(camera.source_url(self.options.prefer_sub),
                                      self.options.allowed_networks),
                    connect_timeout_s=camera.connect_timeout_s,
                    read_timeout_s=camera.read_timeout_s, live=True,
                    decoder=self.options.decoder,
                )
            except SourceError as exc:
                self._failed(exc, attempt)
                attempt += 1
                continue
            log.info("camera_connected", camera_id=camera.id, codec=source.codec)
            self.connected = True
            try:
                if self._analyse(source):
                    attempt = 0  # media flowed: the next failure starts the backoff afresh
                if not self.stopping:
                    raise SourceError("stopped", "the stream ended")
            except SourceError as exc:
                if not self.stopping:
                    self._failed(exc, attempt)
                    attempt += 1
            finally:
                self.connected = False
                source.close()
        log.info("camera_worker_stopped", camera_id=self.camera.id)

    def _failed(self, exc: SourceError, attempt: int) -> None:
        delay = Backoff(steps=self.options.backoff_s).delay(attempt)
        self._reconnects.inc()
        log.warning("camera_unavailable", camera_id=self.camera.id, reason=exc.reason,
                    detail=exc.detail, retry_s=delay)
        self._stop_flag.wait(delay)

    def _analyse(self, source: VideoSource) -> bool:
        """Analyse frames until the stream fails or ``stop()``; True if any frame came."""
        session_id = uuid.uuid4().hex
        clock = WallClock()
        analyzer, sink, camera_id = self.analyzer, self.sink, self.camera.id
        max_lag = self.options.max_lag_s
        errors_seen = 0
        got_any = False
        objects = self.options.objects
        try:
            for decoded in source.frames():
                if self.stopping:
                    break
                got_any = True
                wall = clock.observe(decoded.media_s, decoded.arrival)
                if time.time() - wall > max_lag:
                    # Behind the stream (packets waited in the socket buffer): keep decoding
                    # (later frames refer to these) but skip detection until caught up.
                    self._dropped.inc()
                    analysis = analyzer.skip(decoded.media_s, wall)
                    skipped = True
                else:
                    skipped = False
                    analysis = analyzer.process(decoded.frame, decoded.media_s, wall)
                    self.frames += 1
                transition = analysis.transition
                frame = decoded.frame if transition is not None and transition.kind == "start" \
                    else None
                deferred = objects is not None and not skipped and self._objects(
                    objects, session_id, wall, decoded.frame, analysis)
                sink(Output(camera_id, session_id, analysis, transition, frame, decoded.decode_in,
                            deferred=deferred))
                if source.decoder_errors != errors_seen:
                    self._decoder_errors.inc(source.decoder_errors - errors_seen)
                    errors_seen = source.decoder_errors
        finally:
            ended = analyzer.stop(time.time())
            sink(Output(camera_id, session_id, None, ended))
            if objects is not None:
                objects.end_session(camera_id, session_id, time.time())
        return got_any

    def _objects(self, objects: ObjectEngine, session_id: str, wall: float, frame: Any,
                 analysis: FrameAnalysis) -> bool:
        """Hand the frame to the object engine when it is due; True if it was."""
        settings = objects.settings_for(self.camera)
        if not objects.wants(self.camera.id, settings, wall, analysis.result.motion):
            return False
        # The only colour conversion per detection: to BGR at the analysed size.
        image = frame.reformat(width=analysis.width, height=analysis.height,
                               format="bgr24").to_ndarray()
        objects.submit(ObjectJob(self.camera.id, session_id, wall, image,
                                 analysis.result.boxes, settings, analysis))
        return True
