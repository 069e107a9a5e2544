"""Which cameras this recorder records: the shared lease supervisor
(``argus_common.supervisor``) with the recorder's crew.

A taken camera gets a fresh event window; before its worker starts, its files are
reconciled with the index (under the camera's writer lock, fencing.py) and, in ``events``
mode, the recent events are replayed into the window (a recording in progress on a recorder
that died carries on). Workers keep recording through a Redis outage (``ride_out``) as long
as their camera sends video; a camera silent for ``RECORDING_SELF_FENCE_S`` while Redis is
too is let go (its worker exits and drops the writer lock: a recorder cut off from the
network frees its cameras for the others). A
change of URL, credentials, timeouts or mode restarts the worker; other changes need
nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus_common.handover import Handover
from argus_common.handover_supervisor import HandoverCrew, HandoverSupervisor
from argus_common.leases import Leases
from argus_common.supervisor import Owned, Supervisor
from argus_recording.cameras import CameraConfig
from argus_recording.metrics import OWNED_CAMERAS
from argus_recording.window import EventWindow
from argus_recording.worker import CameraWorker

StartWorker = Callable[[CameraConfig, EventWindow, bool], CameraWorker]
Prepare = Callable[[CameraConfig, EventWindow], Awaitable[None]]
Recorded = Owned[CameraConfig, CameraWorker, EventWindow]
RecordingSupervisor = Supervisor[CameraConfig, CameraWorker, EventWindow]
# A worker finishes its segment (and announces it) before it exits.
JOIN_S = 90.0


class RecordingCrew(HandoverCrew[CameraConfig, CameraWorker, EventWindow]):
    """Recording's side of the supervisor: the service's callbacks."""

    def __init__(
        self,
        start_worker: StartWorker,
        prepare: Prepare,
        make_window: Callable[[], EventWindow],
    ) -> None:
        self._start_worker = start_worker
        self._prepare = prepare
        self._make_window = make_window

    def wants(self, camera: CameraConfig) -> bool:
        return camera.wants_recording

    def new_state(self, camera: CameraConfig) -> EventWindow:
        return self._make_window()

    async def prepare(self, owned: Recorded) -> None:
        await self._prepare(owned.camera, owned.state)

    def start_worker(self, owned: Recorded) -> CameraWorker:
        return self._start_worker(owned.camera, owned.state, False)

    # -- make-before-break handover (argus_common.handover_supervisor, handoff.py) ----------
    def can_hand_over(self, owned: Recorded) -> bool:
        worker = owned.worker
        return worker is not None and worker.can_cut and not worker.stopping

    def standby(self, owned: Recorded) -> CameraWorker | None:
        # Both ingests and both modes (handoff.py hands an open event clip over too).
        return self._start_worker(owned.camera, owned.state, True)

    def ready(self, owned: Recorded) -> bool:
        return owned.worker is not None and owned.worker.handover_ready

    def cut(self, owned: Recorded) -> None:
        if owned.worker is not None:
            owned.worker.cut()

    def cut_at(self, owned: Recorded) -> tuple[bool, float | None]:
        return owned.worker.cut_at() if owned.worker is not None else (False, None)

    def go(self, owned: Recorded, t_ms: float | None) -> None:
        if owned.worker is not None:
            owned.worker.go(t_ms)

    def reconfigure(self, owned: Recorded, camera: CameraConfig) -> bool:
        # The worker reads its own copy of the camera: only ingest changes matter to it.
        return owned.camera.ingest_key == camera.ingest_key

    def last_heard(self, owned: Recorded) -> float | None:
        return owned.worker.last_heard if owned.worker is not None else None


def recording_supervisor(
    leases: Leases,
    crew: RecordingCrew,
    ttl_s: float,
    self_fence_s: float = 0.0,
    handover: bool = True,
) -> RecordingSupervisor:
    """The supervisor of one recorder; ``self_fence_s`` 0 means 3 x the lease TTL;
    ``handover``: a rebalance hands cameras over make-before-break."""
    # Riding out a Redis outage is safe here: workers hold the camera's writer lock.
    options = {
        "join_timeout_s": JOIN_S,
        "owned_gauge": OWNED_CAMERAS,
        "ride_out": True,
        "self_fence_s": self_fence_s or 3 * ttl_s,
    }
    if handover:
        return HandoverSupervisor(leases, crew, ttl_s, handover=Handover(leases, ttl_s), **options)
    return Supervisor(leases, crew, ttl_s, **options)  # type: ignore[arg-type]
