"""The recorder heartbeat management's liveness checker watches (docs/contracts.md).

``<ns>:recorder:<instance>`` holds a small JSON document, written with a 15 s expiry every
5 s. Management raises ``recorder.down`` when a key it has seen expires; a clean shutdown
deletes the key and the instance's entry in ``<ns>:recorders`` so that no alert is raised.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import structlog
from redis.asyncio import Redis

from argus_common.retry import every

log = structlog.get_logger("argus.recording.heartbeat")

TTL_MS = 15_000
INTERVAL_S = 5.0

Cameras = Callable[[], tuple[list[int], list[int]]]


class Heartbeat:
    """Writes this recorder's heartbeat until cancelled."""

    def __init__(self, redis: Redis, namespace: str, instance_id: str, cameras: Cameras) -> None:
        self.redis = redis
        self.key = f"{namespace}:recorder:{instance_id}"
        self.registry = f"{namespace}:recorders"
        self.instance_id = instance_id
        self.cameras = cameras
        self.started_at = time.time()

    def document(self) -> str:
        owned, up = self.cameras()
        return json.dumps({
            "instance": self.instance_id, "ts": time.time(), "started_at": self.started_at,
            "cameras": owned, "cameras_up": up,
        })

    async def beat(self) -> None:
        await self.redis.set(self.key, self.document(), px=TTL_MS)

    async def run(self) -> None:
        """Beat every ``INTERVAL_S`` until cancelled (a failed beat is logged)."""
        await every(INTERVAL_S, self.beat, event="heartbeat_failed", log=log)

    async def leave(self) -> None:
        """Clean shutdown: no ``recorder.down`` for a recorder that stopped on purpose."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self.key)
        pipe.hdel(self.registry, self.instance_id)
        await pipe.execute()
