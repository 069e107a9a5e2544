"""Evidence from the media services that a camera is up, kept in Redis.

``stream.up`` (and ``rtmp.publish``) reported at ``POST /internal/events`` marks a camera
seen: ``<ns>:liveness:seen:<camera_id>`` holds ``{"ts": <epoch s>, "by": <reporter>}``.
``stream.down`` (and ``rtmp.unpublish``) deletes it, so the next check probes the camera.
The checker counts a mark only while it is younger than the freshness window
(``MANAGEMENT_LIVENESS_EVIDENCE_S``); the key's own TTL only keeps Redis tidy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from argus_common.bus import RedisBus

UP_EVENTS = frozenset({"stream.up", "rtmp.publish"})
DOWN_EVENTS = frozenset({"stream.down", "rtmp.unpublish"})
_KEY_TTL_MS = 24 * 3600 * 1000


def seen_key(bus: RedisBus, camera_id: int) -> str:
    return bus.key(f"liveness:seen:{camera_id}")


async def mark_seen(bus: RedisBus, camera_id: int, ts: float, by: str = "") -> None:
    """Record that a media service receives ``camera_id``'s stream as of ``ts``."""
    value = json.dumps({"ts": ts, "by": by[:64]})
    await bus.redis.set(seen_key(bus, camera_id), value, px=_KEY_TTL_MS)


async def mark_down(bus: RedisBus, camera_id: int) -> None:
    """A media service lost the stream: forget the evidence, so the checker probes."""
    await bus.redis.delete(seen_key(bus, camera_id))


async def fresh_seen(
    bus: RedisBus, camera_ids: Iterable[int], window_s: float, now: float | None = None
) -> dict[int, float]:
    """The cameras among ``camera_ids`` seen within ``window_s``: camera id -> when (epoch
    seconds). One Redis round trip for any number of cameras."""
    ids = list(camera_ids)
    if not ids or window_s <= 0:
        return {}
    now = time.time() if now is None else now
    raw = await bus.redis.mget([seen_key(bus, cid) for cid in ids])
    fresh: dict[int, float] = {}
    for cid, value in zip(ids, raw, strict=True):
        if value is None:
            continue
        try:
            ts = float(json.loads(value)["ts"])
        except (ValueError, KeyError, TypeError):
            continue
        if now - window_s <= ts <= now + 5:  # a little clock skew from the reporter is fine
            fresh[cid] = min(ts, now)
    return fresh
