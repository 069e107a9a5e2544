"""The Redis bus against the real Redis: pub/sub, consumer groups, redelivery of stuck entries."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from argus_common.bus import RedisBus
from argus_common.events import EventMessage


@pytest.fixture
async def bus() -> AsyncIterator[RedisBus]:
    redis = Redis.from_url(os.environ["ARGUS_TEST_REDIS_URL"])
    b = RedisBus(redis, f"argus-unit-{uuid.uuid4().hex[:8]}")
    yield b
    keys = [k async for k in redis.scan_iter(match=f"{b.namespace}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_pubsub_roundtrip(bus: RedisBus) -> None:
    received: list[tuple[str, str]] = []

    async def listen() -> None:
        async for item in bus.subscribe("alerts"):
            received.append(item)
            return

    task = asyncio.create_task(listen())
    msg = EventMessage(type="manual", camera_id=3)
    async with asyncio.timeout(5):
        while await bus.publish("alerts", msg) == 0:  # until the subscriber is registered
            await asyncio.sleep(0.02)
        await task
    channel, raw = received[0]
    assert channel == "alerts" and EventMessage.model_validate_json(raw).id == msg.id


async def test_consumer_group_acks_and_redelivers_failed_entries(bus: RedisBus) -> None:
    await bus.ensure_group("events", "g", start="0")
    first = EventMessage(type="manual", camera_id=1)
    second = EventMessage(type="manual", camera_id=2)
    await bus.add("events", first)
    await bus.add("events", second)
    seen: list[str] = []
    fail_once = {second.id}

    async def handler(_: str, data: dict[str, Any]) -> None:
        if data["id"] in fail_once:
            fail_once.discard(data["id"])
            raise RuntimeError("transient")
        seen.append(data["id"])

    task = asyncio.create_task(
        bus.consume("events", "g", "c1", handler, min_idle_ms=200, block_ms=100)
    )
    try:
        async with asyncio.timeout(10):
            while len(seen) < 2:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert seen == [first.id, second.id]  # the failed one came back through XAUTOCLAIM
    pending = await bus.redis.xpending(bus.key("events"), "g")
    assert pending["pending"] == 0
