"""Which cameras this analyser analyses: the shared lease supervisor
(``argus_common.supervisor``) with the analyser's crew, so two analysers never both report
a camera's motion and a dead analyser's cameras move to the others within a TTL.

New motion settings reach a running worker in place; a new URL, credentials or timeouts
reconnect it.
"""

from __future__ import annotations

from collections.abc import Callable

from argus_analysis.cameras import CameraConfig, MotionSettings
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.metrics import CAMERAS
from argus_analysis.pipeline import AnalysisParams, Analyzer
from argus_analysis.worker import CameraWorker, Output, WorkerOptions
from argus_common.leases import Leases
from argus_common.supervisor import Crew, Owned, Supervisor

Analysed = Owned[CameraConfig, CameraWorker, None]
AnalysisSupervisor = Supervisor[CameraConfig, CameraWorker, None]
JOIN_S = 30.0


class AnalysisCrew(Crew[CameraConfig, CameraWorker, None]):
    """The analyser's side of the supervisor: one analysing worker per camera."""

    def __init__(
        self, choice: DeviceChoice, params: Callable[[MotionSettings], AnalysisParams],
        options: WorkerOptions, sink: Callable[[Output], None],
    ) -> None:
        self.choice = choice
        self.params = params
        self.options = options
        self.sink = sink

    def wants(self, camera: CameraConfig) -> bool:
        return camera.wants_analysis

    def new_state(self, camera: CameraConfig) -> None:
        return None

    def start_worker(self, owned: Analysed) -> CameraWorker:
        analyzer = Analyzer(self.choice, self.params(owned.camera.motion))
        worker = CameraWorker(owned.camera, analyzer, self.options, self.sink)
        worker.start()
        return worker

    def reconfigure(self, owned: Analysed, camera: CameraConfig) -> bool:
        worker = owned.worker
        assert worker is not None
        prefer = self.options.prefer_sub
        if worker.camera.connection_key(prefer) != camera.connection_key(prefer):
            return False
        worker.camera = camera
        worker.analyzer.configure(self.params(camera.motion))
        return True


def analysis_supervisor(leases: Leases, crew: AnalysisCrew, ttl_s: float) -> AnalysisSupervisor:
    """The supervisor of one analyser."""
    return Supervisor(leases, crew, ttl_s, join_timeout_s=JOIN_S, owned_gauge=CAMERAS)
