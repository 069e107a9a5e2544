"""The Redis bus against the real Redis: pub/sub, consumer groups, redelivery of stuck entries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from argus_common.bus import RedisBus
from argus_common.events import EventMessage
from argus_testkit import stack as kit


@pytest.fixture
async def bus() -> AsyncIterator[RedisBus]:
    async with kit.redis_bus("argus-unit") as b:
        yield b


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


async def test_consumer_retries_its_own_failed_entries_without_waiting_for_idle(
    bus: RedisBus,
) -> None:
    """A handler that fails (the database away) leaves its entries pending; once it works
    again they are re-read by the same consumer, long before ``min_idle_ms`` (10 min here)
    would let anyone claim them. Cancelling the consumer ends it, bounded."""
    await bus.ensure_group("segments", "g", start="0")
    sent = [EventMessage(type="manual", camera_id=n) for n in range(5)]
    for msg in sent:
        await bus.add("segments", msg)
    seen: list[str] = []
    failures = 0
    database_up = asyncio.Event()

    async def handler(_: str, data: dict[str, Any]) -> None:
        nonlocal failures
        if not database_up.is_set():
            failures += 1
            raise ConnectionRefusedError("database away")
        seen.append(data["id"])

    task = asyncio.create_task(
        bus.consume("segments", "g", "c1", handler, min_idle_ms=600_000, block_ms=2000)
    )
    try:
        async with asyncio.timeout(30):
            while failures < 10:  # every entry failed at least twice: retried while away
                await asyncio.sleep(0.05)
            late = EventMessage(type="manual", camera_id=99)
            await bus.add("segments", late)  # arrives while the others wait for a retry
            database_up.set()
            while len(set(seen)) < 6:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
    assert done == {task}, "the consumer did not end within 10 s of its cancellation"
    assert set(seen) == {m.id for m in sent} | {late.id}
    pending = await bus.redis.xpending(bus.key("segments"), "g")
    assert pending["pending"] == 0


async def test_consumer_acks_a_pending_entry_trimmed_away(bus: RedisBus) -> None:
    """An entry trimmed from the stream while pending cannot be handled: it is acked, not
    re-read for ever."""
    await bus.ensure_group("segments", "g", start="0")
    entry = await bus.add("segments", EventMessage(type="manual", camera_id=1))
    assert await bus.read_group("segments", "g", "c1", block_ms=10)  # pending for c1
    await bus.redis.xdel(bus.key("segments"), entry)

    async def handler(_: str, data: dict[str, Any]) -> None:
        raise AssertionError("a trimmed entry reached the handler")

    task = asyncio.create_task(bus.consume("segments", "g", "c1", handler, block_ms=100))
    try:
        async with asyncio.timeout(10):
            while (await bus.redis.xpending(bus.key("segments"), "g"))["pending"]:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=10)
    assert task.done()


class _BrokenPubSub:
    """A pub/sub whose connection answers None at once for ever (redis-py after an outage)."""

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    async def subscribe(self, *channels: str) -> None:
        pass

    async def get_message(self, timeout: float) -> None:
        self.calls += 1

    async def aclose(self) -> None:
        self.closed = True


class _BrokenRedis:
    def __init__(self) -> None:
        self.pubsub_made = _BrokenPubSub()

    def pubsub(self, **kwargs: Any) -> _BrokenPubSub:
        return self.pubsub_made


async def test_a_pubsub_that_answers_nothing_at_once_raises_instead_of_spinning() -> None:
    redis = _BrokenRedis()
    bus = RedisBus(cast(Redis, redis), "ns")
    with pytest.raises(ConnectionError):
        async with asyncio.timeout(5):
            async for _ in bus.subscribe("alerts"):
                pass
    assert redis.pubsub_made.closed and redis.pubsub_made.calls < 1000
