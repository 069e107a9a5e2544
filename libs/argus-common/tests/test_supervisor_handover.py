"""Make-before-break rebalancing (handover_supervisor.py, handover.py) against the real
Redis: a camera handed back to an instance that joins is cut by the giver at the time the
taker starts from, the taker's worker runs (standby) before the giver's stops, and the
lease ends with the taker; a taker that never gets ready leaves the plain give-back."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from argus_common.cameras import Camera
from argus_common.handover import Handover
from argus_common.handover_supervisor import HandoverCrew, HandoverSupervisor
from argus_common.leases import Leases
from argus_common.supervisor import Owned

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]  # the session's Redis (argus_testkit.pytest_plugin)
TTL_S = 1.0
Own = Owned[Camera, "Worker", None]


class Worker:
    """A worker that cuts as soon as asked, at a time the test can recognise."""

    def __init__(self, camera: Camera, standby: bool, ready: bool, log: list[str]) -> None:
        self.camera = camera
        self.standby = standby
        self.ready = ready
        self.log = log
        self.cut_ms: float | None = None
        self.go_ms: float | None = None
        self.went = False
        self.stopped = threading.Event()
        log.append(f"start {camera.id} standby={standby}")

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.log.append(f"stop {self.camera.id} standby={self.standby}")
        self.stopped.set()

    def join(self, timeout: float | None = None) -> None:
        self.stopped.wait(timeout)


class Crew(HandoverCrew[Camera, Worker, None]):
    def __init__(self, log: list[str], ready: bool = True) -> None:
        self.log = log
        self.ready_standby = ready
        self.workers: list[Worker] = []

    def wants(self, camera: Camera) -> bool:
        return True

    def new_state(self, camera: Camera) -> None:
        return None

    def start_worker(self, owned: Own) -> Worker:
        self.workers.append(Worker(owned.camera, False, True, self.log))
        return self.workers[-1]

    def can_hand_over(self, owned: Own) -> bool:
        return owned.worker is not None

    def standby(self, owned: Own) -> Worker | None:
        self.workers.append(Worker(owned.camera, True, self.ready_standby, self.log))
        return self.workers[-1]

    def ready(self, owned: Own) -> bool:
        return owned.worker is not None and owned.worker.ready

    def cut(self, owned: Own) -> None:
        assert owned.worker is not None
        owned.worker.cut_ms = 1_000_000.0 + owned.camera.id

    def cut_at(self, owned: Own) -> tuple[bool, float | None]:
        assert owned.worker is not None
        return owned.worker.cut_ms is not None, owned.worker.cut_ms

    def go(self, owned: Own, t_ms: float | None) -> None:
        assert owned.worker is not None
        owned.worker.went, owned.worker.go_ms = True, t_ms


def cams(n: int) -> list[Camera]:
    return [Camera.from_api({"id": i, "stream_url": f"rtsp://h/{i}"}) for i in range(1, n + 1)]


async def eventually(check: Callable[[], Any], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class World:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.namespace = f"argus-ho-{uuid.uuid4().hex[:8]}"
        self.sups: list[tuple[HandoverSupervisor[Camera, Worker, None], asyncio.Task[None]]] = []

    def start(
        self, name: str, crew: Crew, cameras: list[Camera]
    ) -> HandoverSupervisor[Camera, Worker, None]:
        leases = Leases(self.redis, self.namespace, "unit", name, TTL_S)
        sup: HandoverSupervisor[Camera, Worker, None] = HandoverSupervisor(
            leases, crew, TTL_S, join_timeout_s=5.0, handover=Handover(leases, TTL_S)
        )
        sup.set_cameras(cameras)
        self.sups.append((sup, asyncio.create_task(sup.run())))
        return sup


@pytest.fixture
async def world() -> AsyncIterator[World]:
    redis = Redis.from_url(REDIS_URL)
    w = World(redis)
    yield w
    for sup, task in w.sups:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sup.shutdown()
        await sup.leases.leave()
    keys = [k async for k in redis.scan_iter(match=f"{w.namespace}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def handovers(role: str, outcome: str) -> float:
    """``argus_handovers_total{role, outcome}`` of this process (both instances count in it)."""
    value = REGISTRY.get_sample_value("argus_handovers_total", {"role": role, "outcome": outcome})
    return value or 0.0


async def test_a_joining_instance_gets_its_share_make_before_break(world: World) -> None:
    before = {(r, o): handovers(r, o) for r, o in (("give", "cut"), ("take", "passed"))}
    log: list[str] = []
    a_crew, b_crew = Crew(log), Crew(log)
    a = world.start("a", a_crew, cams(4))
    await eventually(
        lambda: len(a.owned) == 4 and all(o.worker for o in a.owned.values()),
        "a to hold every camera",
    )
    b = world.start("b", b_crew, cams(4))
    await eventually(
        lambda: len(a.owned) == 2 and len(b.owned) == 2 and not b.incoming and not a.stopping,
        "a fair share for b",
    )
    handed = set(b.owned)
    assert handed.isdisjoint(a.owned)
    for camera_id in handed:
        given = next(w for w in a_crew.workers if w.camera.id == camera_id)
        taken = b.owned[camera_id].worker
        assert taken is not None and taken.standby and taken.went
        # The taker starts where the giver cut.
        assert given.cut_ms is not None and taken.go_ms == given.cut_ms
        # Make before break: the taker's worker ran before the giver's stopped.
        assert log.index(f"start {camera_id} standby=True") < log.index(
            f"stop {camera_id} standby=False"
        )
        owner = await b.leases.owner(str(camera_id))
        assert owner == b.leases.token
        for _ in range(100):  # the taker deletes the handover record just after
            if not await b.handover.state(str(camera_id)):
                break
            await asyncio.sleep(0.02)
        assert await b.handover.state(str(camera_id)) == {}
    assert not [w for w in b_crew.workers if not w.standby], "b took nothing the plain way"
    # Counted: each camera handed over was cut by a and taken by b.
    assert handovers("give", "cut") - before["give", "cut"] == len(handed)
    assert handovers("take", "passed") - before["take", "passed"] == len(handed)


async def test_a_taker_that_never_gets_ready_leaves_the_plain_give_back(world: World) -> None:
    log: list[str] = []
    a = world.start("a", Crew(log), cams(2))
    await eventually(lambda: len(a.owned) == 2, "a to hold both cameras")
    b_crew = Crew(log, ready=False)
    b = world.start("b", b_crew, cams(2))
    # The offer runs out (3 x TTL); a lets the camera go, b takes it by its free lease.
    await eventually(
        lambda: (
            len(a.owned) == 1
            and len(b.owned) == 1
            and not b.incoming
            and all(o.worker is not None for o in b.owned.values())
        ),
        "the camera moved after all",
        timeout_s=15.0,
    )
    (camera_id,) = b.owned
    worker = b.owned[camera_id].worker
    assert worker is not None
    # Either b's standby worker saw the lease come free (it starts at the next keyframe:
    # no cut time) or it was stopped and b took the camera the plain way.
    if worker.standby:
        assert worker.went and worker.go_ms is None
    else:
        assert all(w.stopped.is_set() for w in b_crew.workers if w.standby)
    assert await b.leases.owner(str(camera_id)) == b.leases.token
