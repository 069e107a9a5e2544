"""Events that drive event recordings, from the ``argus:events`` stream.

Every recorder reads the whole stream through a consumer group of its own
(``recording:<instance>``): an event must reach the recorder that owns its camera, which a
group shared by all recorders could not guarantee. When a recorder takes over a camera it
replays the last minutes of the stream for it, so an event recording in progress on a
recorder that died carries on. Groups of recorders that are gone are removed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import structlog
from pydantic import ValidationError

from argus_common.bus import RedisBus
from argus_common.events import STREAM_EVENTS, EventMessage
from argus_recording.window import END_TYPES, START_TYPES, EventWindow

log = structlog.get_logger("argus.recording.triggers")

GROUP_PREFIX = "recording:"
_REPLAY_MAX = 10_000
RELEVANT = frozenset({*START_TYPES, *END_TYPES})


def apply_message(window: EventWindow, msg: EventMessage) -> bool:
    """Feed one event message to a camera's window."""
    key = str(msg.event_id) if msg.event_id is not None else msg.id
    ts_ms = msg.ts.timestamp() * 1000
    ends_ms = msg.ends_at.timestamp() * 1000 if msg.ends_at is not None else None
    return window.apply(msg.type, key, ts_ms, ends_ms)


def parse(data: dict[str, Any]) -> EventMessage | None:
    try:
        msg = EventMessage.model_validate(data)
    except ValidationError:
        return None
    return msg if msg.camera_id is not None else None


class Triggers:
    """Routes event messages to the cameras this recorder owns."""

    def __init__(
        self, bus: RedisBus, instance_id: str,
        route: Callable[[EventMessage], None], lookback_s: float,
    ) -> None:
        self.bus = bus
        self.group = f"{GROUP_PREFIX}{instance_id}"
        self.consumer = instance_id
        self.route = route
        self.lookback_s = lookback_s

    async def run(self) -> None:
        """Consume ``argus:events`` until cancelled."""
        await self.bus.consume(STREAM_EVENTS, self.group, self.consumer, self._handle)

    async def _handle(self, _entry_id: str, data: dict[str, Any]) -> None:
        msg = parse(data)
        if msg is not None and msg.type in RELEVANT:
            self.route(msg)

    async def replay(self, camera_id: int, window: EventWindow) -> int:
        """Apply the recent events of one camera (after taking it over)."""
        since = int((time.time() - self.lookback_s) * 1000)
        entries: Any = await self.bus.redis.xrange(
            self.bus.key(STREAM_EVENTS), min=f"{since}-0", max="+", count=_REPLAY_MAX
        )
        applied = 0
        for _entry_id, fields in entries:
            raw = fields.get(b"data") or fields.get("data")
            if raw is None:
                continue
            try:
                msg = parse(json.loads(raw))
            except ValueError:
                continue
            if msg is not None and msg.camera_id == camera_id and msg.type in RELEVANT:
                applied += apply_message(window, msg)
        return applied

    async def remove_stale_groups(self, live_instances: list[str]) -> None:
        """Destroy the groups of recorders that are no longer alive."""
        live = {f"{GROUP_PREFIX}{i}" for i in live_instances} | {self.group}
        key = self.bus.key(STREAM_EVENTS)
        try:
            groups: Any = await self.bus.redis.xinfo_groups(key)
        except Exception:
            return  # no stream yet
        for group in groups:
            name = group.get("name") or group.get(b"name")
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name.startswith(GROUP_PREFIX) and name not in live:
                await self.bus.redis.xgroup_destroy(key, name)
                log.info("stale_group_removed", group=name)

    async def leave(self) -> None:
        """Remove this recorder's group (clean shutdown)."""
        try:
            await self.bus.redis.xgroup_destroy(self.bus.key(STREAM_EVENTS), self.group)
        except Exception as exc:
            log.warning("group_destroy_failed", error=type(exc).__name__)
