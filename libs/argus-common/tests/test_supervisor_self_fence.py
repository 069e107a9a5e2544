"""The supervisor's self-fencing while riding out a Redis outage (``self_fence_s``), against
in-memory leases that the test takes down: a camera that still answers keeps its worker
through the outage, one that has not answered either is given up (its lease left to
expire), and a tick that hangs (a connection whose link went down) counts as a failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

from argus_common.cameras import Camera
from argus_common.leases import Leases
from argus_common.supervisor import Crew, Owned, Supervisor

TTL_S = 0.6
FENCE_S = 1.0


class FakeLeases:
    """Leases of one instance that nobody else contends for; ``down`` makes every call
    fail, ``hang`` makes every call wait forever (a request on a dead link)."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.down = False
        self.hang = False
        self.released: list[str] = []
        # Called inside the next renew (then forgotten): lands something mid-round.
        self.during_renew: Callable[[], None] | None = None

    async def _call(self) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise ConnectionError("redis unreachable")

    async def heartbeat(self) -> list[str]:
        await self._call()
        return ["me"]

    async def renew(self, names: list[str], *, retake: bool = False) -> set[str]:
        await self._call()
        hook, self.during_renew = self.during_renew, None
        if hook is not None:
            hook()
        return {n for n in names if n in self.held or retake}

    async def acquire(self, name: str) -> bool:
        await self._call()
        self.held.add(name)
        return True

    def next_peer_expiry(self, now_ms: float) -> float | None:
        return None

    async def release(self, name: str) -> None:
        await self._call()
        self.held.discard(name)
        self.released.append(name)


class Worker:
    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.stopped = False
        self.heard = time.monotonic()

    def stop(self) -> None:
        self.stopped = True

    def join(self, timeout: float | None = None) -> None:
        pass


class Cameras(Crew[Camera, Worker, None]):
    """Cameras in ``talking`` send media all the time; the others went quiet."""

    def __init__(self, talking: set[int]) -> None:
        self.talking = talking
        self.started: list[Worker] = []

    def wants(self, camera: Camera) -> bool:
        return True

    def new_state(self, camera: Camera) -> None:
        return None

    def start_worker(self, owned: Owned[Camera, Worker, None]) -> Worker:
        worker = Worker(owned.camera)
        self.started.append(worker)
        return worker

    def last_heard(self, owned: Owned[Camera, Worker, None]) -> float | None:
        worker = owned.worker
        if worker is None:
            return None
        if owned.camera.id in self.talking:
            worker.heard = time.monotonic()
        return worker.heard


async def eventually(check: Callable[[], Any], what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def camera(camera_id: int) -> Camera:
    return Camera.from_api({"id": camera_id, "stream_url": f"rtsp://h/main{camera_id}"})


async def _running(
    crew: Cameras, leases: FakeLeases, fence: float | None
) -> tuple[Supervisor[Camera, Worker, None], asyncio.Task[None]]:
    sup: Supervisor[Camera, Worker, None] = Supervisor(
        cast(Leases, leases), crew, TTL_S, ride_out=True, self_fence_s=fence
    )
    sup.set_cameras([camera(1), camera(2)])
    task = asyncio.create_task(sup.run())
    await eventually(
        lambda: set(sup.owned) == {1, 2} and all(o.worker for o in sup.owned.values()),
        "both cameras running",
    )
    return sup, task


async def _stop(sup: Supervisor[Camera, Worker, None], task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await sup.shutdown()


async def test_a_silent_camera_is_let_go_while_redis_is_down_and_a_talking_one_is_kept() -> None:
    crew, leases = Cameras(talking={1}), FakeLeases()
    sup, task = await _running(crew, leases, FENCE_S)
    try:
        quiet = sup.owned[2].worker
        talking = sup.owned[1].worker
        leases.down = True
        await eventually(lambda: 2 not in sup.owned, "the silent camera given up")
        assert quiet is not None and quiet.stopped
        assert "2" not in leases.released  # left to expire, not released (Redis is down)
        # The camera that still sends media keeps recording through the outage.
        await asyncio.sleep(FENCE_S)
        assert set(sup.owned) == {1} and talking is not None and not talking.stopped
        assert not sup.reachable
        # Redis back: the silent camera's lease is free, it is taken again by a new worker.
        leases.down = False
        await eventually(lambda: 2 in sup.owned and sup.owned[2].worker is not None,
                         "camera 2 taken again")
        assert sup.owned[1].worker is talking and len(crew.started) == 3
    finally:
        await _stop(sup, task)


async def test_without_a_bound_or_an_answer_nothing_is_fenced() -> None:
    crew, leases = Cameras(talking=set()), FakeLeases()
    sup, task = await _running(crew, leases, None)
    try:
        leases.down = True
        await eventually(lambda: not sup.reachable, "the outage noticed")
        await asyncio.sleep(2 * FENCE_S)
        assert set(sup.owned) == {1, 2}
        assert not any(w.stopped for w in crew.started)
    finally:
        await _stop(sup, task)


async def test_a_hanging_redis_counts_as_down() -> None:
    crew, leases = Cameras(talking={1}), FakeLeases()
    sup, task = await _running(crew, leases, FENCE_S)
    try:
        leases.hang = True
        await eventually(lambda: not sup.reachable, "the hanging tick failed")
        await eventually(lambda: set(sup.owned) == {1}, "the silent camera given up")
        leases.hang = False
        await eventually(lambda: sup.reachable and set(sup.owned) == {1, 2}, "back to both")
    finally:
        await _stop(sup, task)


async def test_a_cancel_that_lands_as_a_round_ends_stops_the_loop() -> None:
    """The round's time bound must not swallow a cancel: here it arrives inside the tick,
    which then finishes without waiting again (with 3.11's ``asyncio.wait_for`` the loop ran
    on and whoever awaited it after cancelling hung)."""
    crew, leases = Cameras(talking=set()), FakeLeases()
    sup, task = await _running(crew, leases, None)
    try:
        leases.during_renew = task.cancel
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done == {task} and task.cancelled()
    finally:
        await _stop(sup, task)
