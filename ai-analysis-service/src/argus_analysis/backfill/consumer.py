"""The loop side of backfill analysis: a consumer group of its own on ``argus:segments``.

Every analyser reads the recorder's segment announcements in the group ``analysis-backfill``
(each entry goes to one of them). Entries that are not backfilled, or whose camera has no
analysis or no ``analysis.backfill``, are acked at once. A backfilled one is a job: its file
(under ``RECORDINGS_DIR``) is analysed in a thread (``job.py``), then its events are posted
in order — motion through an ``EventReporter`` of its own (the live one keeps its camera's
current event), objects through an ``ObjectReporter`` of its own — every payload with
``backfill: true``. The entry is acked only after the events went out: an analyser that dies
meanwhile leaves it to be claimed, and the analysis, deterministic, gives the same message
ids again, which management stores once.

The group is created (by the first analyser that has it) at the announcements of the last
``FIRST_LOOKBACK_S``, not at the stream's end: backfills announced before any analyser had
the group (one not running yet, or one from before the group existed) are still analysed.
The bound is the handler's: only backfilled segments of cameras with ``analysis.backfill``
are analysed, the rest acked at once; a file retention removed meanwhile is skipped as
unreadable.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from argus_analysis.backfill.job import (
    BackfillSegment,
    EngineFactory,
    Interrupted,
    analyse_segment,
)
from argus_analysis.cameras import CameraConfig, MotionSettings
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import BACKFILL_SEGMENTS
from argus_analysis.objects.report import ObjectReporter
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.pipeline import AnalysisParams
from argus_analysis.reporter import EventReporter
from argus_analysis.source import SourceError
from argus_common.bus import RedisBus
from argus_common.events import STREAM_SEGMENTS, SegmentClosed

log = structlog.get_logger("argus.analysis.backfill")

GROUP = "analysis-backfill"
CLAIM_IDLE_MS = 600_000  # a long segment at half a core takes minutes: not "stuck" before
# How far back in argus:segments a newly created group starts (entry ids are times).
FIRST_LOOKBACK_S = 24 * 3600.0
DRAIN_EVERY = 40  # reports queued before waiting for them (the reporters' queues hold 100)
_SESSIONS = uuid.UUID("3f6c1f4e-7b9e-4a57-9a51-2b1d0c4e8a11")  # uuid5 namespace


class BackfillAnalysis:
    """Consumes ``argus:segments`` for backfilled segments and analyses them one by one."""

    def __init__(
        self,
        bus: RedisBus,
        management: AnalysisManagement,
        consumer: str,
        recordings_dir: Path,
        choice: DeviceChoice,
        params: Callable[[MotionSettings], AnalysisParams],
        camera: Callable[[int], CameraConfig | None],
        *,
        fps: float,
        cpu_share: float,
        instance_id: str,
        snapshot_quality: int,
        snapshot_max_width: int,
        make_engine: EngineFactory | None = None,
        objects_for: Callable[[CameraConfig], ObjectSettings] | None = None,
    ) -> None:
        self.bus = bus
        self.consumer = consumer
        self.root = recordings_dir
        self.choice = choice
        self.params = params
        self.camera = camera
        self.fps = fps
        self.cpu_share = cpu_share
        self.make_engine = make_engine
        self.objects_for = objects_for
        extra = {"backfill": True}
        self.reporter = EventReporter(
            management, instance_id, snapshot_quality, snapshot_max_width, extra=extra
        )
        self.object_reporter = ObjectReporter(management, snapshot_quality)
        self._stop = threading.Event()

    async def run(self) -> None:
        """Consume until cancelled (a group created now starts ``FIRST_LOOKBACK_S`` back:
        see the module docstring)."""
        await self.bus.ensure_group(STREAM_SEGMENTS, GROUP, start=first_start(time.time()))
        await self.bus.consume(
            STREAM_SEGMENTS, GROUP, self.consumer, self.handle, min_idle_ms=CLAIM_IDLE_MS
        )

    async def handle(self, entry_id: str, data: dict[str, Any]) -> None:
        """One announcement (public for tests); raises to leave it pending."""
        try:
            msg = SegmentClosed.model_validate(data)
        except ValidationError:
            return  # not a segment announcement we understand: nothing to do
        if not msg.backfilled:
            return
        camera = self.camera(msg.camera_id)
        if camera is None or not camera.wants_analysis or not camera.motion.backfill:
            BACKFILL_SEGMENTS.labels("skipped").inc()
            return
        root = self.root.resolve()
        path = (root / msg.path).resolve()
        if not path.is_relative_to(root):
            log.warning("backfill_segment_outside_root", camera_id=msg.camera_id)
            return
        segment = BackfillSegment(msg.camera_id, path, msg.start.timestamp())
        # One session per segment, the same on every try (track ids are derived from it).
        session_id = uuid.uuid5(_SESSIONS, msg.path).hex
        objects = self.objects_for(camera) if self.objects_for is not None else ObjectSettings()
        try:
            found = await asyncio.to_thread(
                analyse_segment,
                segment,
                session_id,
                self.choice,
                self.params(camera.motion),
                self.make_engine,
                objects,
                fps=self.fps,
                cpu_share=self.cpu_share,
                stop=self._stop,
            )
        except SourceError as exc:
            BACKFILL_SEGMENTS.labels("unreadable").inc()
            log.warning(
                "backfill_segment_unreadable",
                camera_id=msg.camera_id,
                reason=exc.reason,
                detail=exc.detail,
            )
            return
        except Interrupted:
            raise RuntimeError("stopping: left for another try") from None
        # Message ids derived from the segment and the order: the analysis is deterministic,
        # so a segment analysed again (its analyser died before the ack) is stored once.
        for i, report in enumerate(found.motion, 1):
            report.message_id = uuid.uuid5(_SESSIONS, f"{session_id}/motion/{i}").hex
            self.reporter.submit(report)
            if i % DRAIN_EVERY == 0:
                await self.reporter.drain(msg.camera_id)
        for i, obj in enumerate(found.objects, 1):
            obj.message.id = uuid.uuid5(_SESSIONS, f"{session_id}/objects/{i}").hex
            obj.message.payload["backfill"] = True
            self.object_reporter.submit(obj)
            if i % DRAIN_EVERY == 0:
                await self.object_reporter.drain(msg.camera_id)
        await self.reporter.drain(msg.camera_id)
        await self.object_reporter.drain(msg.camera_id)
        BACKFILL_SEGMENTS.labels("analysed").inc()
        log.info(
            "backfill_segment_analysed",
            camera_id=msg.camera_id,
            path=msg.path,
            frames=found.frames,
            analysed=found.analysed,
            media_s=round(found.media_s, 2),
            busy_s=round(found.busy_s, 2),
            motion_events=len(found.motion),
            object_events=len(found.objects),
        )

    async def stop(self) -> None:
        """Interrupt a running analysis; let posted events finish."""
        self._stop.set()
        await self.reporter.close()
        await self.object_reporter.close()


def first_start(now_s: float) -> str:
    """The stream id a newly created group starts after: ``FIRST_LOOKBACK_S`` before now."""
    return f"{max(0, int((now_s - FIRST_LOOKBACK_S) * 1000))}-0"
