"""The recorder heartbeat in Redis and the disk.low / disk.ok events (docs/contracts.md)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from argus_common.events import EventMessage
from argus_recording.config import Settings
from argus_recording.heartbeat import TTL_MS, Heartbeat
from argus_recording.retention import Retention

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]  # the session's Redis (argus_testkit.pytest_plugin)


async def test_heartbeat_document_and_clean_leave() -> None:
    redis = Redis.from_url(REDIS_URL)
    ns = f"argus-test-{uuid.uuid4().hex[:8]}"
    beat = Heartbeat(redis, ns, "rec-9", lambda: ([1, 2, 3], [1, 2]))
    try:
        await beat.beat()
        doc = json.loads(await redis.get(f"{ns}:recorder:rec-9"))
        assert doc["instance"] == "rec-9" and doc["cameras"] == [1, 2, 3]
        assert doc["cameras_up"] == [1, 2] and doc["ts"] >= doc["started_at"]
        assert 0 < await redis.pttl(f"{ns}:recorder:rec-9") <= TTL_MS
        await redis.hset(f"{ns}:recorders", "rec-9", "seen")
        await beat.leave()
        assert not await redis.exists(f"{ns}:recorder:rec-9")
        assert not await redis.hexists(f"{ns}:recorders", "rec-9")
    finally:
        await redis.delete(f"{ns}:recorder:rec-9", f"{ns}:recorders")
        await redis.aclose()


class _NoLease:
    """Leases of a recorder that never holds the retention lease."""

    async def acquire(self, name: str) -> bool:
        return False

    async def renew(self, names: list[str]) -> set[str]:
        return set()


async def test_disk_low_and_ok_are_reported_once_per_crossing(tmp_path: Path) -> None:
    sent: list[EventMessage] = []

    async def report(message: EventMessage) -> None:
        sent.append(message)

    settings = Settings(RECORDINGS_DIR=str(tmp_path), RECORDING_INSTANCE_ID="rec-d",
                        RECORDINGS_MIN_FREE_BYTES=0, RECORDING_MIN_FREE_PERCENT=0)
    retention = Retention(settings, None, _NoLease(), report)  # type: ignore[arg-type]
    await retention.tick()
    assert sent == []  # fine from the start: nothing to say
    settings.min_free_bytes = 10**18
    await retention.tick()
    await retention.tick()
    settings.min_free_bytes = 0
    await retention.tick()
    assert [(m.type, m.severity, m.camera_id) for m in sent] == [
        ("disk.low", "critical", None), ("disk.ok", "info", None)]
    payload: dict[str, Any] = sent[0].payload
    assert payload["recorder"] == "rec-d" and payload["path"] == str(tmp_path)
    assert payload["free_bytes"] > 0 and payload["total_bytes"] >= payload["free_bytes"]
    assert payload["threshold_ratio"] == 1.0 and 0 < payload["free_ratio"] <= 1
