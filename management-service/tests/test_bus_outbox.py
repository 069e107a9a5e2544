"""Management's durable outbox against a real Redis stopped and started again: events and
alerts announced while it is away are delivered, in order, once it is back; the outbox of a
worker that is gone is adopted by a live one."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from argus_common.events import CHANNEL_ALERTS, STREAM_EVENTS, EventMessage
from argus_management.bus_outbox import BusOutbox, DurableBus, open_outbox
from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Proc

pytestmark = pytest.mark.timeout(120)


class OwnRedis:
    """A redis-server of the test's own (the service table's entry), restartable on its
    port; Redis without persistence, so a restart empties it."""

    def __init__(self, tmp: Path) -> None:
        self.cfg = kit.test_config(tmp / "data")
        self.launcher = Launcher(tmp / "logs")
        (tmp / "logs").mkdir(parents=True, exist_ok=True)
        self.proc: Proc | None = None
        self.url = f"redis://127.0.0.1:{self.cfg.ports.redis}/0"

    def start(self) -> None:
        self.proc = kit.start(self.launcher, self.cfg, "redis", dict(os.environ))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.launcher.stop_all()


@pytest.fixture
async def client(own_redis: OwnRedis) -> AsyncIterator[Redis]:
    redis = Redis.from_url(own_redis.url, socket_timeout=2, socket_connect_timeout=2)
    yield redis
    await redis.aclose()


def message(n: int) -> EventMessage:
    return EventMessage(type="manual", camera_id=n)


async def stream_ids(redis: Redis, bus: DurableBus) -> list[str]:
    entries = await redis.xrange(bus.key(STREAM_EVENTS))
    return [EventMessage.model_validate_json(fields[b"data"]).id for _, fields in entries]


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert done == {task}, "the delivery task did not end within 10 s of its cancellation"


async def test_events_and_alerts_wait_for_redis_and_keep_their_order(
    own_redis: OwnRedis, client: Redis, tmp_path: Path
) -> None:
    outbox = open_outbox(tmp_path / "data")
    assert outbox is not None
    bus = DurableBus(client, "argus-outbox-test", outbox)
    deliver = asyncio.create_task(bus.deliver())
    try:
        first = message(1)
        assert await bus.add(STREAM_EVENTS, first)  # Redis up: straight to the stream
        assert bus.waiting == 0

        own_redis.stop()
        kept = [message(n) for n in range(2, 6)]
        for msg in kept:
            assert await bus.add(STREAM_EVENTS, msg) == ""  # no error: kept
        alert = message(99)
        assert await bus.publish(CHANNEL_ALERTS, alert) == 0
        assert bus.waiting == 5
        assert outbox.count() == 5  # on disk

        own_redis.start()  # empty: no persistence
        sub = Redis.from_url(own_redis.url)
        pubsub = sub.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(bus.key(CHANNEL_ALERTS))
        try:
            received: list[str] = []
            async with asyncio.timeout(60):
                while len(await stream_ids(client, bus)) < len(kept) or not received:
                    msg = await pubsub.get_message(timeout=0.2)
                    if msg is not None:
                        received.append(EventMessage.model_validate_json(msg["data"]).id)
            assert await stream_ids(client, bus) == [m.id for m in kept]
            assert received == [alert.id]
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await sub.aclose()
        async with asyncio.timeout(10):
            while bus.waiting:
                await asyncio.sleep(0.05)
        assert outbox.count() == 0
        after = message(6)
        await bus.add(STREAM_EVENTS, after)  # nothing waits: straight to Redis again
        assert (await stream_ids(client, bus))[-1] == after.id
    finally:
        await stop_task(deliver)
        bus.close()


async def test_the_outbox_of_a_worker_that_is_gone_is_delivered_by_another(
    own_redis: OwnRedis, client: Redis, tmp_path: Path
) -> None:
    own_redis.stop()
    gone = BusOutbox(tmp_path / "data" / "outbox" / "old-worker")
    assert gone.open()
    dead = DurableBus(client, "argus-outbox-test", gone)
    kept = [message(n) for n in range(3)]
    for msg in kept:
        await dead.add(STREAM_EVENTS, msg)
    dead.close()  # the worker is gone; its records stay on disk

    own_redis.start()
    outbox = open_outbox(tmp_path / "data")
    assert outbox is not None
    bus = DurableBus(client, "argus-outbox-test", outbox)
    deliver = asyncio.create_task(bus.deliver())
    try:
        async with asyncio.timeout(60):
            while len(await stream_ids(client, bus)) < len(kept):
                await asyncio.sleep(0.1)
        assert await stream_ids(client, bus) == [m.id for m in kept]
        async with asyncio.timeout(10):
            while (tmp_path / "data" / "outbox" / "old-worker").exists():
                await asyncio.sleep(0.1)
    finally:
        await stop_task(deliver)
        bus.close()
        with contextlib.suppress(Exception):
            await client.delete(bus.key(STREAM_EVENTS))
