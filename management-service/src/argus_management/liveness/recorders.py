"""Recorder heartbeats: which recording-service instances are alive, which went silent.

Contract (docs/contracts.md): every recorder keeps ``<ns>:recorder:<instance>`` alive with
``SET … PX <ttl>`` (15 s, refreshed every 5 s), a JSON value that may list ``cameras_up``
(cameras whose media it receives now: liveness evidence). A clean shutdown deletes the key
and its entry of the ``<ns>:recorders`` hash. Management's checker remembers every instance
it has seen in that hash; one whose key has expired is down: a ``recorder.down`` alert is
raised and the instance forgotten, and an instance that comes back resolves it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management.alerts.rules import RECORDER_DOWN
from argus_management.alerts.service import raise_alert, resolve_alerts

HEARTBEAT_PREFIX = "recorder:"
REGISTRY = "recorders"


@dataclass
class RecorderScan:
    """The heartbeats found in one cycle."""

    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)  # live, not yet in the registry
    lost: list[str] = field(default_factory=list)  # in the registry, heartbeat expired

    def cameras_up(self) -> set[int]:
        """Cameras some live recorder says it receives media from right now."""
        up: set[int] = set()
        for beat in self.live.values():
            for cid in beat.get("cameras_up") or ():
                if isinstance(cid, int) and not isinstance(cid, bool):
                    up.add(cid)
        return up


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


async def scan(bus: RedisBus) -> RecorderScan:
    """Read every heartbeat and the registry (a few round trips, whatever the count)."""
    prefix = bus.key(HEARTBEAT_PREFIX)
    keys = [_text(k) async for k in bus.redis.scan_iter(match=f"{prefix}*", count=1000)]
    values = await bus.redis.mget(keys) if keys else []
    result = RecorderScan()
    for key, raw in zip(keys, values, strict=True):
        if raw is None:
            continue  # expired between SCAN and MGET
        try:
            beat = json.loads(raw)
        except ValueError:
            beat = {}
        result.live[key[len(prefix):]] = beat if isinstance(beat, dict) else {}
    known = {_text(k) for k in await bus.redis.hkeys(bus.key(REGISTRY))}
    result.new = sorted(set(result.live) - known)
    result.lost = sorted(known - set(result.live))
    return result


async def apply_alerts(session: AsyncSession, bus: RedisBus, found: RecorderScan) -> None:
    """In the caller's transaction: ``recorder.down`` for lost instances, resolved for
    instances that (re)appeared."""
    for instance in found.lost:
        await raise_alert(
            session, bus, kind=RECORDER_DOWN.kind, severity=RECORDER_DOWN.severity,
            title=f"{RECORDER_DOWN.title}: {instance}",
            detail=f"recording-service instance {instance} stopped renewing its heartbeat",
            payload={"instance": instance}, dedupe_key=instance,
        )
    for instance in found.new:
        await resolve_alerts(
            session, bus, kind=RECORDER_DOWN.kind, camera_id=None, dedupe_key=instance
        )


async def update_registry(bus: RedisBus, found: RecorderScan) -> None:
    """After the alerts are committed: remember new instances, forget lost ones."""
    pipe = bus.redis.pipeline(transaction=False)
    registry = bus.key(REGISTRY)
    for instance in found.new:
        pipe.hset(registry, instance, json.dumps({"first_seen": time.time()}))
    if found.lost:
        pipe.hdel(registry, *found.lost)
    await pipe.execute()
