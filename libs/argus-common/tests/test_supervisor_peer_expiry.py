"""A supervisor whose peer stops announcing itself aims its next round at the peer's expiry
(``Leases.next_peer_expiry``, ``Supervisor._pause_s``), against the real Redis: while the
peer renews nothing is suspected; once it has missed a heartbeat the pause ends just after
the peer's announced expiry, and the peer's cameras are taken in that round."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from argus_common.cameras import Camera
from argus_common.leases import Leases
from argus_common.supervisor import PEER_EXPIRY_MARGIN_S, Crew, Owned, Supervisor

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]  # the session's Redis (argus_testkit.pytest_plugin)
TTL_S = 1.5


class Worker:
    def stop(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass


class Plain(Crew[Camera, Worker, None]):
    def wants(self, camera: Camera) -> bool:
        return True

    def new_state(self, camera: Camera) -> None:
        return None

    def start_worker(self, owned: Owned[Camera, Worker, None]) -> Worker:
        return Worker()


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    client = Redis.from_url(REDIS_URL)
    namespace = f"argus-peer-{uuid.uuid4().hex[:8]}"
    yield client, namespace
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_the_round_after_a_peer_vanishes_is_aimed_at_its_expiry(
    redis: tuple[Redis, str],
) -> None:
    client, namespace = redis
    cameras = [Camera.from_api({"id": i, "stream_url": f"rtsp://h/{i}"}) for i in (1, 2)]
    sups = []
    for name in ("a", "b"):
        sup: Supervisor[Camera, Worker, None] = Supervisor(
            Leases(client, namespace, "unit", name, TTL_S), Plain(), TTL_S
        )
        sup.set_cameras(cameras)
        sups.append(sup)
    a, b = sups
    await a.tick()  # alone: both cameras
    await b.tick()  # b counts, takes nothing yet
    await a.tick()  # a gives one back (released once its worker has exited)
    for _ in range(50):
        if not a.stopping:
            break
        await asyncio.sleep(0.02)
    await b.tick()
    assert len(a.owned) == 1 and len(b.owned) == 1
    # Both renewing: nobody is suspected, the pause is the usual third of the TTL.
    assert b.leases.next_peer_expiry(time.time() * 1000) is None
    assert b._pause_s() == pytest.approx(TTL_S / 3)
    expiry = b.leases.expiries["a"]
    # a stops renewing (killed). b's round comes when a's announcement has a quarter of a
    # second left: the usual pause would overshoot it.
    await asyncio.sleep(max(0.0, expiry / 1000 - time.time() - 0.25))
    await b.tick()
    now_ms = time.time() * 1000
    assert b.leases.next_peer_expiry(now_ms) == expiry
    pause = b._pause_s()
    assert pause < TTL_S / 3
    assert pause == pytest.approx((expiry - now_ms) / 1000 + PEER_EXPIRY_MARGIN_S, abs=0.05)
    await asyncio.sleep(pause)
    await b.tick()  # the aimed round: a is gone, its camera is free
    assert len(b.owned) == 2 and b.live_instances == ["b"]
    await b.shutdown()
