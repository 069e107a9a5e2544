"""Running backfills (see the package docstring); planning them is planner.py's part
(``Backfill`` is a ``BackfillPlanner``: ``observe`` sees every segment announced).

``run`` checks every second, on the service's loop, for cameras that have a job, are held
by this recorder, whose worker holds the writer lock and receives media again (the camera
is back); each such job runs in a backfill thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from argus_recording.backfill.budget import SharedBudget
from argus_recording.backfill.config import BackfillSettings
from argus_recording.backfill.files import files_between, read_part
from argus_recording.backfill.jobs import CameraBackfill, JobStore, subtract
from argus_recording.backfill.onvif import OnvifError, OnvifRecordings, ProfileG
from argus_recording.backfill.planner import BackfillPlanner
from argus_recording.backfill.replay import ReplayError, read_replay
from argus_recording.backfill.segments import BackfillWriter
from argus_recording.cameras import CameraConfig
from argus_recording.fencing import LIVE
from argus_recording.layout import DirMaker, segment_relpath, start_ms_of
from argus_recording.salvage import salvage
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.backfill")

_TICK_S = 1.0
_PROBE_TTL_S = 300.0
_RETRY_S = (2.0, 5.0, 10.0, 30.0)
MAX_ATTEMPTS = 20  # failed tries in a row after which a range is given up (it stays a gap)


class Backfill(BackfillPlanner):
    """The backfill side of one recorder process: plans jobs (``BackfillPlanner``) and
    runs them."""

    def __init__(
        self,
        settings: BackfillSettings,
        root: Path,
        state_dir: Path,
        segment_s: float,
        durable: bool,
        announce: Callable[[ClosedSegment], None],
        cameras: Callable[[], dict[int, tuple[CameraConfig, bool]]],
    ) -> None:
        super().__init__(settings, JobStore(state_dir, durable))
        self.root = root
        self.segment_ms = segment_s * 1000
        self.durable = durable
        self.announce = announce
        self.cameras = cameras  # camera id -> (config, ready: lock held and media flowing)
        self._probes: dict[int, tuple[float, ProfileG | None]] = {}
        self._running: dict[int, concurrent.futures.Future[None]] = {}
        self._not_before: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._held: set[int] = set()  # cameras whose state file was read since we got them
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.concurrency, thread_name_prefix="backfill"
        )
        # Every running backfill reads from this one budget (many cameras back at once).
        self.budget = SharedBudget(settings.total_bytes_per_s)
        self.restored_ms = 0  # footage written, for status
        self.active: dict[int, dict[str, Any]] = {}

    # -- running -----------------------------------------------------------------------
    async def run(self) -> None:
        """Plan and start backfills until cancelled."""
        if not self.settings.enabled:
            return
        await asyncio.to_thread(self.jobs.load)
        while True:
            try:
                await self._tick()
            except Exception:
                log.exception("backfill_tick_failed")
            await asyncio.sleep(_TICK_S)

    async def _tick(self) -> None:
        cameras = self.cameras()
        for camera_id in set(cameras) - self._held:
            await asyncio.to_thread(self.jobs.reload, camera_id)
        self._held = set(cameras)
        for camera_id, (camera, ready) in cameras.items():
            if ready and camera.recording_mode == "continuous":
                self.live_started(camera_id)
        for camera_id in [c for c, f in self._running.items() if f.done()]:
            future = self._running.pop(camera_id)
            self.active.pop(camera_id, None)
            if future.exception() is not None:
                log.warning(
                    "backfill_failed", camera_id=camera_id, error=type(future.exception()).__name__
                )
        now = time.monotonic()
        for camera_id, (lo, hi) in self.jobs.pending().items():
            entry = cameras.get(camera_id)
            if entry is None or not entry[1] or camera_id in self._running:
                continue
            if now < self._not_before.get(camera_id, 0.0):
                continue
            camera = entry[0]
            profile = await self._profile(camera)
            if profile is None:
                continue
            # Queued until one of the _CONCURRENCY backfill threads is free.
            self.active[camera_id] = {"start_ms": lo, "end_ms": hi, "queued": True}
            self._running[camera_id] = asyncio.get_running_loop().run_in_executor(
                self._pool, self._run_job, camera, profile, lo, hi
            )  # type: ignore[assignment]

    async def _profile(self, camera: CameraConfig) -> ProfileG | None:
        """The camera's Profile G recording (cached); a camera without one has its jobs
        dropped: its gaps stay gaps."""
        cached = self._probes.get(camera.id)
        if cached is not None and time.monotonic() - cached[0] < _PROBE_TTL_S:
            if cached[1] is None:  # a gap planned since the probe stays a gap too
                self.jobs.update(camera.id, _drop_jobs)
            return cached[1]
        if not camera.onvif_host:
            profile = None
        else:
            try:
                profile = await OnvifRecordings(camera).profile_g()
            except OnvifError as exc:
                log.info("backfill_probe_failed", camera_id=camera.id, detail=str(exc))
                self._delay(camera.id)
                return None
        self._probes[camera.id] = (time.monotonic(), profile)
        if profile is None:
            dropped = self.jobs.update(camera.id, _drop_jobs)
            log.info(
                "backfill_unsupported",
                camera_id=camera.id,
                detail="no ONVIF Profile G recording: gaps stay gaps",
                dropped=len(dropped.jobs) == 0,
            )
        return profile

    def _delay(self, camera_id: int) -> None:
        n = self._failures.get(camera_id, 0)
        self._failures[camera_id] = n + 1
        self._not_before[camera_id] = time.monotonic() + _RETRY_S[min(n, len(_RETRY_S) - 1)]

    # -- in a backfill thread ----------------------------------------------------------
    def _run_job(self, camera: CameraConfig, profile: ProfileG, lo: int, hi: int) -> None:
        self.active[camera.id] = {"start_ms": lo, "end_ms": hi, "since": time.time()}
        try:
            missing = self._missing(camera.id, lo, hi)
            for a, b in missing:
                if self._stop.is_set():
                    return
                asyncio.run(self._fetch(camera, profile, a, b))
            self.jobs.update(camera.id, lambda s: _finish(s, lo, hi))
            self._failures.pop(camera.id, None)
            log.info(
                "backfill_done", camera_id=camera.id, start_ms=lo, end_ms=hi, ranges=len(missing)
            )
        except (ReplayError, OSError) as exc:
            log.warning("backfill_interrupted", camera_id=camera.id, error=str(exc))
            self._delay(camera.id)
            if self._failures.get(camera.id, 0) >= MAX_ATTEMPTS:
                self._failures.pop(camera.id, None)
                log.warning(
                    "backfill_abandoned",
                    camera_id=camera.id,
                    range=self.jobs.drop_oldest(camera.id),
                )

    async def _fetch(self, camera: CameraConfig, profile: ProfileG, lo: int, hi: int) -> None:
        writer = BackfillWriter(
            root=self.root,
            dirs=DirMaker(self.root, self.durable),
            camera_id=camera.id,
            lo_ms=lo,
            hi_ms=hi,
            segment_ms=self.segment_ms,
            durable=self.durable,
            sprop=(None, None),
            on_closed=lambda seg: self._closed(camera.id, lo, hi, seg),
            live_tail=await asyncio.to_thread(self._live_tail, camera.id, lo),
            live_head=await asyncio.to_thread(self._live_head, camera.id, hi),
        )
        settings = self.settings
        started = time.monotonic()
        try:
            result = await read_replay(
                profile.replay_uri,
                camera.username,
                camera.password,
                lo,
                hi,
                speed=settings.speed,
                max_bytes_per_s=settings.max_bytes_per_s,
                read_timeout_s=settings.read_timeout_s,
                on_unit=writer.feed,
                stop=self._stop,
                on_setup=writer.set_sprop,
                shared=self.budget,
            )
        finally:
            writer.abort()
        took = time.monotonic() - started
        log.info(
            "backfill_range_done",
            camera_id=camera.id,
            start_ms=lo,
            end_ms=hi,
            segments=writer.segments,
            units=result.units,
            bytes=result.nbytes,
            speed=round((hi - lo) / 1000 / took, 2) if took else None,
            bridge_cpu_s=round(writer.bridge_s, 3),
        )

    def _closed(self, camera_id: int, lo: int, hi: int, segment: ClosedSegment) -> None:
        self.announce(segment)  # outbox (durable), then observe() through the listener
        self.restored_ms += segment.end_ms - segment.start_ms
        end = segment.end_ms
        self.jobs.update(camera_id, lambda s: _progress(s, lo, hi, end))

    def _live_tail(self, camera_id: int, lo: int) -> bytes:
        """The last ``_TAIL_BYTES`` of the segment that ends at ``lo`` (its last GOP: the
        bridge leaves out the replayed frames found there); empty when there is none."""
        spans = self.covered(camera_id)
        relpath = next((p for p, (_a, b) in spans.items() if abs(b - lo) <= 1), None)
        return read_part(self.root / relpath, tail=True) if relpath is not None else b""

    def _live_head(self, camera_id: int, hi: int) -> bytes:
        """The first ``_TAIL_BYTES`` of the segment that starts at ``hi`` (its first GOP,
        once written: the keyframe found there ends the backfill); empty when none."""
        return read_part(self.root / segment_relpath(camera_id, hi), tail=False)

    def _missing(self, camera_id: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """``[lo, hi)`` minus every segment file of the camera on disk (files this
        process did not announce, such as one a killed backfill left, are repaired and
        announced first)."""
        known = self.covered(camera_id)
        spans = []
        live = LIVE.snapshot()
        for relpath in files_between(self.root, camera_id, lo, hi):
            if relpath in known:
                spans.append(known[relpath])
                continue
            if relpath in live:
                start = start_ms_of(relpath)
                assert start is not None
                spans.append((start, max(start, hi)))  # being written: covers the rest
                continue
            segment = salvage(self.root, relpath, camera_id, "continuous", self.durable)
            if segment is not None:
                self.announce(segment)
                spans.append((segment.start_ms, segment.end_ms))
        return subtract(lo, hi, spans, int(self.settings.min_gap_s * 500))

    def status(self) -> dict[str, Any]:
        # Ranges of cameras held now: another recorder's are its to do (and to report).
        pending = {c: r for c, r in self.jobs.pending().items() if c in self._held}
        return {
            "pending": {str(c): r for c, r in pending.items()},
            "active": {str(c): a for c, a in self.active.items()},
            "restored_s": round(self.restored_ms / 1000, 3),
        }

    async def stop(self) -> None:
        """Stop the running backfills (their finished segments are kept and announced)."""
        self._stop.set()
        if self._running:
            await asyncio.gather(
                *[asyncio.wrap_future(f) for f in self._running.values()], return_exceptions=True
            )
        self._pool.shutdown(wait=False)


def _drop_jobs(state: CameraBackfill) -> bool:
    state.unsupported = True
    if not state.jobs:
        return False
    state.jobs.clear()
    return True


def _finish(state: CameraBackfill, lo: int, hi: int) -> bool:
    before = len(state.jobs)
    state.jobs = [j for j in state.jobs if j[1] != hi]
    return len(state.jobs) != before


def _progress(state: CameraBackfill, lo: int, hi: int, end: int) -> bool:
    """The job ``[lo, hi)`` is written up to ``end``: a restart resumes from there."""
    for job in state.jobs:
        if job[1] == hi and job[0] < end < hi:
            job[0] = end
            return True
    return False
