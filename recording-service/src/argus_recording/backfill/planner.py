"""Planning backfills: which holes of the live recording become jobs.

``observe`` sees every segment this recorder announces (from closer threads, the reconcile
and the backfill threads) and remembers what each camera's segments cover; a live segment
that starts more than ``min_gap_s`` after the previous live one ended makes a job
``[previous end, its start)``, persisted per camera (jobs.py). ``live_started`` plans the
same job as soon as that live segment is open. Running the jobs is manager.py's part.
"""

from __future__ import annotations

import threading
import time

import structlog

from argus_recording.backfill.config import BackfillSettings
from argus_recording.backfill.jobs import MAX_JOBS, CameraBackfill, JobStore
from argus_recording.fencing import LIVE
from argus_recording.layout import start_ms_of
from argus_recording.writer import ClosedSegment

log = structlog.get_logger("argus.recording.backfill")

_COVERED_KEEP = 4000  # segments remembered per camera


class BackfillPlanner:
    """The jobs of one recorder process and what its announced segments cover."""

    def __init__(self, settings: BackfillSettings, jobs: JobStore) -> None:
        self.settings = settings
        self.jobs = jobs
        self._covered: dict[int, dict[str, tuple[int, int]]] = {}
        self._covered_lock = threading.Lock()

    def covered(self, camera_id: int) -> dict[str, tuple[int, int]]:
        """A copy of the camera's announced segments: relpath -> (start ms, end ms)."""
        with self._covered_lock:
            return dict(self._covered.get(camera_id, {}))

    def observe(self, segment: ClosedSegment) -> None:
        """A segment was announced (any thread): note what it covers; a live one that
        starts after a hole plans a backfill of that hole."""
        if not self.settings.enabled:
            return
        with self._covered_lock:
            spans = self._covered.setdefault(segment.camera_id, {})
            spans[segment.relpath] = (segment.start_ms, segment.end_ms)
            if len(spans) > _COVERED_KEEP:
                for old in sorted(spans, key=lambda p: spans[p][0])[: len(spans) // 4]:
                    del spans[old]
        if segment.kind != "continuous":
            # Backfills fill holes, and an events-mode camera's recording is meant to have
            # holes between its clips: only continuous recording plans backfills.
            return
        min_gap = self.settings.min_gap_s * 1000
        max_ms = self.settings.max_s * 1000

        def change(state: CameraBackfill) -> bool:
            start, end = segment.start_ms, segment.end_ms
            changed = False
            if (
                state.last_end is not None
                and start - state.last_end >= min_gap
                and start > state.planned_until
            ):
                lo = max(state.last_end, start - int(max_ms))
                state.jobs.append([lo, start])
                del state.jobs[:-MAX_JOBS]
                state.planned_until = start
                changed = True
                log.info(
                    "backfill_planned",
                    camera_id=segment.camera_id,
                    start_ms=lo,
                    end_ms=start,
                    seconds=round((start - lo) / 1000, 3),
                )
            if state.last_end is None or end > state.last_end:
                state.last_end = end
                changed = True
            return changed

        self.jobs.update(segment.camera_id, change)

    def live_started(self, camera_id: int) -> None:
        """Plan a job as soon as the live segment after a hole is open (before it closes):
        its start is in ``fencing.LIVE``."""
        state = self.jobs.get(camera_id)
        if state.last_end is None:
            return
        prefix = f"{camera_id}/"
        starts = [
            s
            for p in LIVE.snapshot()
            if p.startswith(prefix)
            and (s := start_ms_of(p)) is not None
            and s > state.planned_until
            and s > state.last_end
        ]
        if not starts:
            return
        start = min(starts)
        # A segment that closes at a rollover is announced just after the next one opens:
        # wait until the hole is older than that could take.
        if (
            start - state.last_end < self.settings.min_gap_s * 1000
            or time.time() * 1000 - start < 3000
        ):
            return
        self.observe_open(camera_id, start)

    def observe_open(self, camera_id: int, start: int) -> None:
        max_ms = int(self.settings.max_s * 1000)

        def change(state: CameraBackfill) -> bool:
            if state.last_end is None or start <= state.planned_until:
                return False
            lo = max(state.last_end, start - max_ms)
            state.jobs.append([lo, start])
            del state.jobs[:-MAX_JOBS]
            state.planned_until = start
            log.info(
                "backfill_planned",
                camera_id=camera_id,
                start_ms=lo,
                end_ms=start,
                seconds=round((start - lo) / 1000, 3),
            )
            return True

        self.jobs.update(camera_id, change)
