"""What every camera worker shares: settings, the hooks into the service, and
``WorkerCore`` (one camera's state, metrics and segment callbacks), used by both ingests
(``PyAvWorker`` in pyav_worker.py, the RTSP ingest in rtsp_worker.py)."""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog

from argus_common.addresses import Network
from argus_recording.cameras import CameraConfig
from argus_recording.fragments import FragmentWriter
from argus_recording.handoff import Handoff
from argus_recording.layout import DirMaker
from argus_recording.metrics import BYTES_WRITTEN, DROPPED_PACKETS, LAG, RECONNECTS
from argus_recording.modes import Context, ContinuousRecorder, EventRecorder
from argus_recording.packets import Item
from argus_recording.salvage import salvage
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
        # Standby and cut of a make-before-break handover (handoff.py; both ingests).
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
