"""Analysis jobs on files: recorded ranges (read from ``RECORDINGS_DIR``) and uploads.

Jobs arrive on the ``argus:analysis_jobs`` stream (consumer group ``analysis``: each job
goes to one analyser). A job runs in a thread, decoding with frame threads (throughput
matters here, not latency); its results go to ``argus:analysis`` with the job id as
``session_id`` and its progress to management every second. An entry is acked when the
job is finished; one whose analyser died is claimed by another after ``CLAIM_IDLE_MS``
(a running job keeps its entry fresh meanwhile).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from argus_analysis.detect.select import DeviceChoice
from argus_analysis.filejob import JobFailed, JobInput, JobProgress, analyse_inputs
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import JOBS
from argus_analysis.pipeline import AnalysisParams
from argus_analysis.source import DecoderOptions
from argus_analysis.worker import Output
from argus_common.bus import RedisBus
from argus_common.errors import Unavailable
from argus_common.events import ANALYSIS_JOBS_GROUP, STREAM_ANALYSIS_JOBS, AnalysisJobRequest
from argus_common.management import Refused

log = structlog.get_logger("argus.analysis.jobs")

CLAIM_IDLE_MS = 60_000
TOUCH_S = 15.0
PROGRESS_S = 1.0
Params = Callable[[dict[str, Any]], AnalysisParams]


class JobRunner:
    """Consumes the job stream and runs up to ``concurrency`` jobs at once."""

    def __init__(
        self, bus: RedisBus, management: AnalysisManagement, consumer: str,
        recordings_dir: Path, choice: DeviceChoice, params: Params,
        decoder: DecoderOptions, sink: Callable[[Output], None], concurrency: int = 1,
    ) -> None:
        self.bus = bus
        self.management = management
        self.consumer = consumer
        self.root = recordings_dir
        self.choice = choice
        self.params = params
        self.decoder = decoder
        self.sink = sink
        self.concurrency = concurrency
        self.running: dict[str, asyncio.Task[None]] = {}
        self._stop = threading.Event()

    async def run(self) -> None:
        """Take and run jobs until cancelled."""
        await self.bus.ensure_group(STREAM_ANALYSIS_JOBS, ANALYSIS_JOBS_GROUP, start="0")
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        while True:
            free = self.concurrency - len(self.running)
            if free <= 0:
                await asyncio.wait(list(self.running.values()),
                                   return_when=asyncio.FIRST_COMPLETED)
                continue
            batch: list[tuple[str, str]] = []
            if loop.time() >= next_claim:
                batch = await self.bus.claim_stuck(
                    STREAM_ANALYSIS_JOBS, ANALYSIS_JOBS_GROUP, self.consumer, CLAIM_IDLE_MS,
                    count=free,
                )
                next_claim = loop.time() + CLAIM_IDLE_MS / 4000
            if not batch:
                batch = await self.bus.read_group(
                    STREAM_ANALYSIS_JOBS, ANALYSIS_JOBS_GROUP, self.consumer, count=free,
                    block_ms=2000,
                )
            for entry_id, raw in batch:
                if entry_id not in self.running:
                    task = asyncio.create_task(self._handle(entry_id, raw), name=f"job-{entry_id}")
                    self.running[entry_id] = task
                    task.add_done_callback(self._forget(entry_id))

    def _forget(self, entry_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self.running.pop(entry_id, None)

        return done

    async def _ack(self, entry_id: str) -> None:
        await self.bus.ack(STREAM_ANALYSIS_JOBS, ANALYSIS_JOBS_GROUP, entry_id)

    async def _handle(self, entry_id: str, raw: str) -> None:
        try:
            req = AnalysisJobRequest.model_validate_json(raw)
        except ValidationError as exc:
            log.warning("job_message_invalid", entry_id=entry_id, errors=exc.error_count())
            await self._ack(entry_id)
            return
        try:
            job = await self.management.job(req.job_id)
            if job is None or job.get("state") in ("done", "failed"):
                await self._ack(entry_id)  # deleted, or finished by an analyser that died
                return
            await self.management.update_job(req.job_id, state="running", progress=0.0)
            log.info("job_started", job_id=req.job_id, source=req.source)
            await self._run_job(entry_id, req)
            await self._ack(entry_id)
        except Unavailable as exc:
            # Left pending: claimed again (here or elsewhere) once management is back.
            log.warning("job_postponed", job_id=req.job_id, detail=str(exc))
        except Refused as exc:
            log.warning("job_refused", job_id=req.job_id, status=exc.status)
            await self._ack(entry_id)
        except Exception:
            log.exception("job_crashed", job_id=req.job_id)

    async def _run_job(self, entry_id: str, req: AnalysisJobRequest) -> None:
        progress = JobProgress()
        with tempfile.TemporaryDirectory(prefix="argus-job-") as tmp:
            try:
                inputs = await self._inputs(req, Path(tmp))
                work = asyncio.create_task(asyncio.to_thread(
                    analyse_inputs, req, inputs, self.choice, self.params(req.analysis),
                    self.decoder, self.sink, progress, self._stop,
                ))
                await self._watch(entry_id, req.job_id, work, progress)
                await work
            except JobFailed as exc:
                JOBS.labels("failed").inc()
                log.warning("job_failed", job_id=req.job_id, reason=exc.reason)
                await self.management.update_job(
                    req.job_id, state="failed", error=exc.reason, **progress.counts()
                )
                return
        JOBS.labels("done").inc()
        log.info("job_done", job_id=req.job_id, **progress.counts())
        await self.management.update_job(
            req.job_id, state="done", progress=1.0, **progress.counts()
        )

    async def _watch(
        self, entry_id: str, job_id: str, work: asyncio.Task[None], progress: JobProgress
    ) -> None:
        """Report progress every second and keep the stream entry ours while it runs."""
        touched = asyncio.get_running_loop().time()
        while not work.done():
            await asyncio.wait([work], timeout=PROGRESS_S)
            if work.done():
                return
            try:
                await self.management.update_job(
                    job_id, state="running", progress=progress.fraction(), **progress.counts()
                )
                now = asyncio.get_running_loop().time()
                if now - touched >= TOUCH_S:
                    touched = now
                    await self.bus.redis.xclaim(
                        self.bus.key(STREAM_ANALYSIS_JOBS), ANALYSIS_JOBS_GROUP, self.consumer,
                        0, [entry_id], justid=True,
                    )
            except (Unavailable, Refused) as exc:
                log.warning("job_progress_not_reported", job_id=job_id, detail=str(exc))

    async def _inputs(self, req: AnalysisJobRequest, tmp: Path) -> list[JobInput]:
        if req.source == "upload":
            path = tmp / "upload.mp4"
            await self.management.download_upload(req.job_id, path)
            base = req.start.timestamp() if req.start else 0.0
            return [JobInput(path=path, base_wall=base)]
        inputs = []
        root = self.root.resolve()
        for segment in req.segments:
            path = (root / segment.path).resolve()
            if not path.is_relative_to(root):
                log.warning("job_segment_outside_root", job_id=req.job_id)
                continue
            inputs.append(JobInput(
                path=path, base_wall=segment.start.timestamp(),
                lo=req.start.timestamp() if req.start else None,
                hi=req.end.timestamp() if req.end else None,
                span_s=max(0.0, (segment.end - segment.start).total_seconds()),
            ))
        if not inputs:
            raise JobFailed("no recordings in the range")
        return inputs

    async def stop(self) -> None:
        """Interrupt running jobs; their entries stay pending for a later claim."""
        self._stop.set()
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
