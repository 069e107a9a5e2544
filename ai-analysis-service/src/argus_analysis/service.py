"""The analysis service: wires Redis, management, the supervisor, results, events and jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

from argus_analysis.backfill.consumer import BackfillAnalysis
from argus_analysis.cameras import CameraConfig, MotionSettings
from argus_analysis.config import Settings
from argus_analysis.detect.base import NO_MOTION
from argus_analysis.detect.object_base import ObjectDetector
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.jobs import JobRunner
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import FPS, FRAMES
from argus_analysis.objects.engine import ObjectEngine, ObjectOutput
from argus_analysis.objects.report import ObjectReporter
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.outbox import Outbox
from argus_analysis.pipeline import AnalysisParams
from argus_analysis.reporter import EventReporter, MotionReport
from argus_analysis.results import ResultWriter, RowPicker
from argus_analysis.source import DecoderOptions
from argus_analysis.supervisor import AnalysisCrew, analysis_supervisor
from argus_analysis.worker import Output, WorkerOptions
from argus_common.bus import RedisBus, redis_client
from argus_common.camera_sync import CameraSync
from argus_common.errors import Unavailable
from argus_common.leases import Leases
from argus_common.retry import Backoff, keep_running
from argus_common.service_http import camera_service_problems

log = structlog.get_logger("argus.analysis")
_RETRY_S = 2.0
_FPS_EVERY_S = 2.0


class AnalysisService:
    """Everything one analyser process runs on its asyncio loop."""

    def __init__(
        self, settings: Settings, choice: DeviceChoice,
        detectors: tuple[dict[str, ObjectDetector], str] | None = None,
    ) -> None:
        self.settings = settings
        self.choice = choice
        self.redis = redis_client(settings)
        self.bus = RedisBus(self.redis, settings.redis_namespace)
        self.management = AnalysisManagement(settings.management_url,
                                             settings.service_credential())
        self.leases = Leases(self.redis, settings.redis_namespace, "analysis",
                             settings.instance_id, settings.lease_ttl_s)
        self.results = ResultWriter(
            self.bus, RowPicker(settings.results_summary_s, settings.results_motion_frames),
            settings.publish_frames,
        )
        self.reporter = EventReporter(self.management, settings.instance_id,
                                      settings.snapshot_quality, settings.snapshot_max_width)
        self.object_reporter = ObjectReporter(self.management, settings.snapshot_quality)
        self.objects: ObjectEngine | None = None
        if detectors is not None:
            self.objects = ObjectEngine(
                detectors[0], detectors[1], self._sink, fps=settings.object_fps,
                ttl_s=settings.object_track_ttl_s, max_batch=settings.object_max_batch,
                instance_id=settings.instance_id,
                defaults=ObjectSettings.parse(settings.object_defaults),
            )
        hwaccel = choice.device == "cuda"
        self.worker_options = WorkerOptions(
            decoder=DecoderOptions(threads=1, hwaccel=hwaccel,
                                   skip_loop_filter=settings.skip_loop_filter),
            prefer_sub=settings.prefer_sub_stream,
            backoff_s=tuple(settings.backoff_steps), max_lag_s=settings.max_lag_s,
            objects=self.objects, allowed_networks=tuple(settings.camera_networks() or ()),
        )
        self.supervisor = analysis_supervisor(
            self.leases, AnalysisCrew(choice, self.params, self.worker_options, self._sink),
            settings.lease_ttl_s,
        )
        self.cameras = CameraSync(self.management, self.supervisor, self.bus,
                                  settings.camera_refresh_s)
        self.backfill = BackfillAnalysis(
            self.bus, self.management, settings.instance_id, settings.recordings_dir, choice,
            self.params, self._camera, fps=settings.backfill_fps,
            cpu_share=settings.backfill_cpu_share, instance_id=settings.instance_id,
            snapshot_quality=settings.snapshot_quality,
            snapshot_max_width=settings.snapshot_max_width,
            make_engine=self._backfill_engine if self.objects is not None else None,
            objects_for=self.objects.settings_for if self.objects is not None else None,
        )
        self._outbox: Outbox[Output | ObjectOutput] | None = None
        self.jobs: JobRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    # -- cameras -------------------------------------------------------------------------
    def params(self, raw: MotionSettings | dict[str, Any]) -> AnalysisParams:
        """Analysis parameters from a camera's (or a job's) motion settings."""
        motion = raw if isinstance(raw, MotionSettings) else MotionSettings.parse(raw)
        s = self.settings
        return AnalysisParams(
            detector=motion.detector_config(s.algorithm, s.background_tau_s, s.default_masks),
            start_frames=motion.start_frames, end_quiet_s=motion.end_quiet_s,
            max_width=s.max_width, downscale=s.downscale,
        )

    def _camera(self, camera_id: int) -> CameraConfig | None:
        """A camera this analyser would analyse (whoever holds its lease); raises while
        the camera list has not been loaded (the entry is then retried)."""
        if not self.supervisor.loaded:
            raise Unavailable("the camera list is not loaded yet")
        return self.supervisor.desired.get(camera_id)

    def _backfill_engine(self, sink: Callable[[ObjectOutput], None]) -> ObjectEngine:
        """An object engine for one backfilled segment: the live engine's detectors and
        settings, its lock (a detector serves one thread at a time), no thread of its own."""
        live = self.objects
        assert live is not None
        s = self.settings
        return ObjectEngine(live.detectors, live.default, sink, fps=s.object_fps,
                            ttl_s=s.object_track_ttl_s, max_batch=s.object_max_batch,
                            instance_id=s.instance_id, defaults=live.defaults, lock=live.lock)

    def _sink(self, output: Output | ObjectOutput) -> None:
        assert self._outbox is not None
        self._outbox.put(output)

    # -- outputs of the workers (on the loop) --------------------------------------------
    def _objects_out(self, out: ObjectOutput) -> None:
        """Detections of a frame (published with the frame's results) and events."""
        if out.analysis is not None:
            self.results.add(out.camera_id, out.session_id, out.analysis,
                             self.reporter.current.get(out.camera_id), objects=out.objects)
        for report in out.reports:
            self.object_reporter.submit(report)

    def _drain(self, batch: list[Output | ObjectOutput]) -> None:
        for out in batch:
            if isinstance(out, ObjectOutput):
                self._objects_out(out)
                continue
            a = out.analysis
            if out.job:
                if a is not None:
                    self.results.add(out.camera_id, out.session_id, a, None, live=False,
                                     media=True)
                continue
            camera_id = out.camera_id
            assert camera_id is not None
            t = out.transition
            if a is None:  # the connection ended
                if t is not None:
                    self.reporter.submit(MotionReport(camera_id, out.session_id, t, NO_MOTION,
                                                      0, 0))
                self.results.picker.forget(out.session_id)
                continue
            if t is not None and t.kind == "start":
                self.reporter.submit(MotionReport(camera_id, out.session_id, t, a.result,
                                                  a.width, a.height, out.frame, out.decode_in))
            if not out.deferred:  # else published with its detections (_objects_out)
                self.results.add(camera_id, out.session_id, a,
                                 self.reporter.current.get(camera_id))
            if t is not None and t.kind == "end":
                self.reporter.submit(MotionReport(camera_id, out.session_id, t, a.result,
                                                  a.width, a.height))

    # -- loops ---------------------------------------------------------------------------
    async def _fps(self) -> None:
        """``argus_analysis_fps`` and ``argus_analysis_frames_total`` from the workers'
        plain counters (the frame path itself never touches Prometheus)."""
        seen: dict[int, tuple[int, float]] = {}
        while True:
            await asyncio.sleep(_FPS_EVERY_S)
            now = time.monotonic()
            for camera_id, owned in list(self.supervisor.owned.items()):
                if owned.worker is None:  # still starting
                    continue
                frames = owned.worker.frames
                before, at = seen.get(camera_id, (frames, now - _FPS_EVERY_S))
                before = min(before, frames)  # a restarted worker counts from 0
                label = str(camera_id)
                FPS.labels(label).set(round((frames - before) / max(now - at, 1e-3), 2))
                if frames > before:
                    FRAMES.labels(label).inc(frames - before)
                seen[camera_id] = (frames, now)
            for camera_id in [c for c in seen if c not in self.supervisor.owned]:
                del seen[camera_id]
                FPS.remove(str(camera_id))

    async def _jobs(self) -> None:
        assert self.jobs is not None
        await keep_running(self.jobs.run, event="job_consumer_failed", log=log,
                           backoff=Backoff(steps=[_RETRY_S]))

    async def _backfill(self) -> None:
        await keep_running(self.backfill.run, event="backfill_consumer_failed", log=log,
                           backoff=Backoff(steps=[_RETRY_S]))

    async def readiness(self) -> list[str]:
        """What keeps the analyser from being ready (empty: ready)."""
        return await camera_service_problems(self.redis, self.supervisor.loaded)

    def status(self) -> dict[str, Any]:
        """Cameras owned and connected (ids only; nothing secret)."""
        return {
            "instance_id": self.settings.instance_id,
            "device": self.choice.device, "backend": self.choice.backend,
            "desired": sorted(self.supervisor.desired),
            "owned": sorted(self.supervisor.owned),
            "connected": sorted(
                c for c, o in self.supervisor.owned.items()
                if o.worker is not None and o.worker.connected
            ),
            "live_instances": self.supervisor.live_instances,
            "jobs_running": len(self.jobs.running) if self.jobs else 0,
            "objects": None if self.objects is None else {
                "default": self.objects.default,
                "detectors": {n: d.provider for n, d in self.objects.detectors.items()},
            },
        }

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._outbox = Outbox(loop, self._drain)
        s = self.settings
        self.jobs = JobRunner(
            self.bus, self.management, s.instance_id, s.recordings_dir, self.choice,
            self.params, DecoderOptions(threads=s.job_decoder_threads), self._sink,
            s.job_concurrency,
        )
        if self.objects is not None:
            self.objects.start()
        for coro in (
            self.cameras.reload_forever(), self.cameras.follow_changes(), self.supervisor.run(),
            self.results.run(), self._fps(), self._jobs(), self._backfill(),
        ):
            self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        """Stop the workers (their events end), send what is pending, leave."""
        for task in self._tasks[:3]:  # no new cameras while stopping
            task.cancel()
        if self.jobs is not None:
            await self.jobs.stop()
        await self.backfill.stop()
        await self.supervisor.shutdown()
        if self.objects is not None:  # the tracks the workers ended are reported
            await asyncio.to_thread(self.objects.stop)
        await asyncio.sleep(0.05)  # let the workers' last outputs reach the loop
        await self.reporter.close()
        await self.object_reporter.close()
        try:
            async with asyncio.timeout(5.0):
                await self.results.flush()
        except Exception as exc:
            log.warning("results_unsent_at_stop", error=type(exc).__name__)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.leases.leave()
        except Exception as exc:
            log.warning("leave_failed", error=type(exc).__name__)
        await self.management.aclose()
        await self.redis.aclose()
