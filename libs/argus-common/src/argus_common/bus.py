"""The Redis bus: streams with consumer groups (at-least-once) and pub/sub (live only)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import ResponseError

log = structlog.get_logger("argus.bus")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


class RedisBus:
    """Typed access to the ARGUS streams and channels under one namespace."""

    def __init__(self, redis: Redis, namespace: str = "argus") -> None:
        self.redis = redis
        self.namespace = namespace

    def key(self, name: str) -> str:
        """Full Redis name of a stream, channel or key: ``<namespace>:<name>``."""
        return f"{self.namespace}:{name}"

    # -- pub/sub -------------------------------------------------------------------------
    async def publish(self, channel: str, message: BaseModel) -> int:
        """Publish ``message`` on ``channel``; returns the number of live subscribers."""
        return int(await self.redis.publish(self.key(channel), message.model_dump_json()))

    async def subscribe(self, *channels: str) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(channel, raw JSON)`` for every message on ``channels`` until cancelled."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        full = [self.key(c) for c in channels]
        await pubsub.subscribe(*full)
        prefix = len(self.namespace) + 1
        try:
            while True:
                msg = await pubsub.get_message(timeout=5.0)
                if msg is None or msg.get("type") != "message":
                    continue
                channel = msg["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                data = msg["data"]
                yield channel[prefix:], data.decode() if isinstance(data, bytes) else str(data)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- streams -------------------------------------------------------------------------
    async def add(self, stream: str, message: BaseModel, maxlen: int = 100_000) -> str:
        """Append ``message`` to ``stream`` (trimmed to about ``maxlen``); returns its entry id."""
        entry = await self.redis.xadd(
            self.key(stream), {"data": message.model_dump_json()}, maxlen=maxlen, approximate=True
        )
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def ensure_group(self, stream: str, group: str, start: str = "$") -> None:
        """Create consumer group ``group`` on ``stream`` (and the stream) if missing."""
        try:
            await self.redis.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_group(
        self, stream: str, group: str, consumer: str, count: int = 50, block_ms: int = 2000
    ) -> list[tuple[str, str]]:
        """New entries for ``consumer``: a list of ``(entry id, raw JSON)``."""
        resp: Any = await self.redis.xreadgroup(
            group, consumer, {self.key(stream): ">"}, count=count, block=block_ms
        )
        if not resp:
            return []
        if isinstance(resp, dict):  # RESP3 answers a map of stream -> entries
            return _entries(next(iter(resp.values()))[0] if resp else [])
        return _entries(resp[0][1])

    async def claim_stuck(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int = 50
    ) -> list[tuple[str, str]]:
        """Take over entries another consumer read but did not ack within ``min_idle_ms``."""
        resp: Any = await self.redis.xautoclaim(
            self.key(stream), group, consumer, min_idle_time=min_idle_ms, start_id="0-0",
            count=count,
        )
        return _entries(resp[1])

    async def ack(self, stream: str, group: str, *entry_ids: str) -> None:
        if entry_ids:
            await self.redis.xack(self.key(stream), group, *entry_ids)

    async def consume(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        min_idle_ms: int = 60_000,
        block_ms: int = 2000,
    ) -> None:
        """Run ``handler`` on every entry of ``stream`` for this group until cancelled.

        Handlers must be idempotent: an entry is acked only after its handler returns, and
        entries left unacked by a dead consumer are reclaimed after ``min_idle_ms``. A handler
        that raises leaves its entry pending, to be retried by the reclaim.
        """
        await self.ensure_group(stream, group)
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        while True:
            batch: list[tuple[str, str]] = []
            if loop.time() >= next_claim:
                batch = await self.claim_stuck(stream, group, consumer, min_idle_ms)
                next_claim = loop.time() + min_idle_ms / 2000
            batch += await self.read_group(stream, group, consumer, block_ms=block_ms)
            for entry_id, raw in batch:
                try:
                    await handler(entry_id, _load(raw))
                except Exception:
                    log.exception("stream_handler_failed", stream=stream, entry_id=entry_id)
                    continue
                await self.ack(stream, group, entry_id)


def _entries(raw: list[Any]) -> list[tuple[str, str]]:
    out = []
    for entry_id, fields in raw:
        if not fields:
            continue  # trimmed away while pending
        data = fields.get(b"data", fields.get("data", b"{}"))
        eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        out.append((eid, data.decode() if isinstance(data, bytes) else str(data)))
    return out


def _load(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}
