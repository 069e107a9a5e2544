"""Backfilled segments announced before the ``analysis-backfill`` group existed, against the
real Redis: the first analyser creates the group ``FIRST_LOOKBACK_S`` back, so they are
analysed (a real segment file through the real analysis); what is not a backfill, a camera
without ``analysis.backfill`` and an announcement older than the lookback are not.

The segment shows no motion (the square moves after its end), so nothing is reported and
no management is needed: its client points at a closed port and is never called.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from anaclips import CLIP_PARAMS, make_clip

from argus_analysis.backfill.consumer import FIRST_LOOKBACK_S, GROUP, BackfillAnalysis
from argus_analysis.cameras import CameraConfig
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.management import AnalysisManagement
from argus_analysis.metrics import BACKFILL_SEGMENTS
from argus_common.bus import RedisBus
from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_testkit import stack as kit
from argus_testkit.ports import free_port


@pytest.fixture
async def bus() -> AsyncIterator[RedisBus]:
    async with kit.redis_bus("argus-bfgroup") as b:
        yield b


def _camera(camera_id: int, backfill: bool) -> CameraConfig:
    return CameraConfig.from_api(
        {
            "id": camera_id,
            "stream_url": f"rtsp://127.0.0.1/cam{camera_id}",
            "analysis": {"enabled": True, "backfill": backfill},
        }
    )


def _announcement(camera_id: int, path: str, backfilled: bool) -> SegmentClosed:
    start = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    return SegmentClosed(
        camera_id=camera_id,
        path=path,
        start=start,
        end=start + timedelta(seconds=3),
        duration=3.0,
        bytes=1,
        codec="h264",
        width=320,
        height=180,
        backfilled=backfilled,
    )


def _count(outcome: str) -> float:
    return float(BACKFILL_SEGMENTS.labels(outcome)._value.get())


async def test_backfills_announced_before_the_group_are_analysed(
    bus: RedisBus, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    (recordings / "1/2026-11-23/09").mkdir(parents=True)
    clip = make_clip(recordings / "1/2026-11-23/09/1795426200000.mp4", motion=(10.0, 11.0))
    relpath = str(clip.relative_to(recordings))
    # Announced before any analyser had the group: one older than the lookback, then a
    # backfill of a camera that wants it analysed, a live segment, a backfill of a camera
    # that does not.
    old_ms = int((time.time() - FIRST_LOOKBACK_S - 3600) * 1000)
    await bus.redis.xadd(
        bus.key(STREAM_SEGMENTS),
        {"data": _announcement(1, relpath, True).model_dump_json()},
        id=f"{old_ms}-0",
    )
    wanted = await bus.add(STREAM_SEGMENTS, _announcement(1, relpath, True))
    live = await bus.add(STREAM_SEGMENTS, _announcement(1, relpath, False))
    other = await bus.add(STREAM_SEGMENTS, _announcement(2, "2/x.mp4", True))
    cameras = {1: _camera(1, True), 2: _camera(2, False)}
    seen: list[str] = []

    class Recording(BackfillAnalysis):
        async def handle(self, entry_id: str, data: dict[str, Any]) -> None:
            seen.append(entry_id)
            await super().handle(entry_id, data)

    management = AnalysisManagement(f"http://127.0.0.1:{free_port()}", "unused")
    analysis = Recording(
        bus,
        management,
        "a1",
        recordings,
        DeviceChoice("cpu", "opencv", "test"),
        lambda _motion: CLIP_PARAMS,
        cameras.get,
        fps=10,
        cpu_share=1.0,
        instance_id="a1",
        snapshot_quality=80,
        snapshot_max_width=640,
    )
    analysed, skipped = _count("analysed"), _count("skipped")
    task = asyncio.create_task(analysis.run())
    try:
        async with asyncio.timeout(60):
            while len(seen) < 3 or _count("analysed") == analysed:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # anything further would be delivered by now
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await analysis.stop()
        await management.aclose()
    assert seen == [wanted, live, other]  # not the one older than the lookback
    assert _count("analysed") == analysed + 1 and _count("skipped") == skipped + 1
    pending = await bus.redis.xpending(bus.key(STREAM_SEGMENTS), GROUP)
    assert pending["pending"] == 0  # each acked
