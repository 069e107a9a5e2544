"""The shared lease supervisor against the real Redis: fair shares between instances,
handover, a lease kept renewed until the worker has exited, a lost lease, Redis going away,
restarts on reconfiguration and a failing ``prepare``."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from argus_common.cameras import Camera
from argus_common.leases import Leases
from argus_common.supervisor import Crew, Owned, Supervisor

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]  # the session's Redis (argus_testkit.pytest_plugin)
TTL_S = 1.0


class FakeWorker:
    """A worker whose exit the test can hold back (a recorder finishing its segment)."""

    def __init__(self, camera: Camera, hold: bool) -> None:
        self.camera = camera
        self.stopped = threading.Event()
        self.release = threading.Event()
        self.exited = threading.Event()
        if not hold:
            self.release.set()

    def stop(self) -> None:
        self.stopped.set()

    def join(self, timeout: float | None = None) -> None:
        if self.stopped.wait(timeout) and self.release.wait(timeout):
            self.exited.set()


class FakeCrew(Crew[Camera, FakeWorker, int]):
    def __init__(self) -> None:
        self.started: list[FakeWorker] = []
        self.prepared: list[int] = []
        self.hold: set[int] = set()
        self.fail_prepare = False
        self._states = 0

    def wants(self, camera: Camera) -> bool:
        return camera.enabled

    def new_state(self, camera: Camera) -> int:
        self._states += 1
        return self._states

    async def prepare(self, owned: Owned[Camera, FakeWorker, int]) -> None:
        self.prepared.append(owned.camera.id)
        if self.fail_prepare:
            raise ConnectionError("management down")

    def start_worker(self, owned: Owned[Camera, FakeWorker, int]) -> FakeWorker:
        worker = FakeWorker(owned.camera, hold=owned.camera.id in self.hold)
        self.started.append(worker)
        return worker

    def reconfigure(self, owned: Owned[Camera, FakeWorker, int], camera: Camera) -> bool:
        return owned.camera.connection_key() == camera.connection_key()


def camera(camera_id: int, enabled: bool = True, url: str = "rtsp://h/main") -> Camera:
    return Camera.from_api({"id": camera_id, "stream_url": f"{url}{camera_id}",
                            "enabled": enabled})


async def eventually(check: Callable[[], Any], what: str, timeout_s: float = 8.0) -> None:
    """Poll ``check`` (state with no event to await) until true, at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class Instance:
    """One supervisor with its crew and its running loop."""

    def __init__(self, redis: Redis, namespace: str, name: str) -> None:
        self.leases = Leases(redis, namespace, "unit", name, TTL_S)
        self.crew = FakeCrew()
        self.supervisor: Supervisor[Camera, FakeWorker, int] = Supervisor(
            self.leases, self.crew, TTL_S, join_timeout_s=10.0)
        self.task: asyncio.Task[None] | None = None

    def run(self, cameras: list[Camera]) -> Instance:
        self.supervisor.set_cameras(cameras)
        self.task = asyncio.create_task(self.supervisor.run())
        return self

    @property
    def owned(self) -> set[int]:
        return set(self.supervisor.owned)

    def running(self) -> set[int]:
        return {c for c, o in self.supervisor.owned.items()
                if o.worker is not None and not o.worker.stopped.is_set()}

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        for worker in self.crew.started:
            worker.release.set()
        await self.supervisor.shutdown()
        await self.leases.leave()


@pytest.fixture
async def world() -> AsyncIterator[tuple[Redis, str, list[Instance]]]:
    redis = Redis.from_url(REDIS_URL)
    namespace = f"argus-sup-{uuid.uuid4().hex[:8]}"
    instances: list[Instance] = []
    yield redis, namespace, instances
    for instance in instances:
        await instance.close()
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _new(world: tuple[Redis, str, list[Instance]], name: str, redis: Redis | None = None
         ) -> Instance:
    base, namespace, instances = world
    instance = Instance(redis or base, namespace, name)
    instances.append(instance)
    return instance


async def test_two_instances_share_fairly_and_take_over_on_leave(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    cameras = [camera(i) for i in range(1, 6)] + [camera(9, enabled=False)]
    a = _new(world, "a").run(cameras)
    await eventually(lambda: a.running() == {1, 2, 3, 4, 5}, "a alone runs every camera")
    assert a.crew.prepared[:5] == [1, 2, 3, 4, 5]  # prepared before each first start
    b = _new(world, "b").run(cameras)
    # Five cameras, two instances: three and two (rounded up), never one camera twice.
    await eventually(lambda: len(a.owned) == 3 and len(b.owned) == 2, "a fair split")
    assert a.owned.isdisjoint(b.owned) and a.owned | b.owned == {1, 2, 3, 4, 5}
    await eventually(lambda: b.running() == b.owned, "b's workers started")
    given_back = [w for w in a.crew.started if w.camera.id in b.owned]
    assert given_back and all(w.exited.is_set() for w in given_back)
    # A clean leave frees a's leases and its place in the fair share at once.
    await a.close()
    await eventually(lambda: b.running() == {1, 2, 3, 4, 5}, "b takes every camera")


async def test_a_camera_let_go_keeps_its_lease_until_the_worker_has_exited(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    a = _new(world, "a")
    a.crew.hold.add(1)
    a.run([camera(1)])
    await eventually(lambda: a.running() == {1}, "camera 1 running")
    worker = a.supervisor.owned[1].worker
    assert worker is not None
    await a.supervisor.camera_changed(1, camera(1, enabled=False))
    assert worker.stopped.is_set() and 1 not in a.supervisor.owned
    b = _new(world, "b").run([camera(1)])
    # Two TTLs later the worker still writes: a keeps renewing, b cannot take the camera.
    await asyncio.sleep(2 * TTL_S)
    assert (await a.leases.owner("1")) == a.leases.token and not b.owned
    worker.release.set()
    await eventually(lambda: b.running() == {1}, "b takes camera 1 once a's worker exited")


async def test_a_lost_lease_stops_the_worker_without_touching_the_new_owner(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    redis, _, _ = world
    a = _new(world, "a").run([camera(1), camera(2)])
    await eventually(lambda: a.running() == {1, 2}, "both running")
    worker = a.supervisor.owned[2].worker
    assert worker is not None
    await redis.set(a.leases.key("2"), "someone-else:token", px=60_000)
    await eventually(lambda: worker.exited.is_set(), "the worker of the lost camera stopped")
    assert (await redis.get(a.leases.key("2"))) == b"someone-else:token"
    assert a.running() == {1}


async def test_restart_only_on_a_connection_change_and_after_the_old_worker_exited(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    a = _new(world, "a").run([camera(1)])
    await eventually(lambda: a.running() == {1}, "camera 1 running")
    owned = a.supervisor.owned[1]
    first = owned.worker
    assert first is not None
    renamed = Camera.from_api({"id": 1, "stream_url": "rtsp://h/main1", "name": "renamed"})
    await a.supervisor.camera_changed(1, renamed)
    assert owned.worker is first and owned.camera.name == "renamed"
    await a.supervisor.camera_changed(1, camera(1, url="rtsp://other/x"))
    second = owned.worker
    assert second is not None and second is not first and first.exited.is_set()
    assert second.camera.stream_url == "rtsp://other/x1" and owned.state == 1  # same ownership
    assert a.crew.prepared == [1]  # a restart is not a new take


async def test_a_failing_prepare_still_starts_the_worker(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    a = _new(world, "a")
    a.crew.fail_prepare = True
    a.run([camera(3)])
    await eventually(lambda: a.running() == {3}, "camera 3 running despite prepare failing")


class Gate:
    """A TCP relay to Redis that can be cut (Redis going away for this instance only)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(
            urlsplit(REDIS_URL).hostname, urlsplit(REDIS_URL).port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


async def test_unrenewable_leases_stop_every_worker(
    world: tuple[Redis, str, list[Instance]],
) -> None:
    gate = Gate()
    port = await gate.start()
    gated = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.5,
                           socket_connect_timeout=0.5)
    a = _new(world, "a", redis=gated).run([camera(1), camera(2)])
    await eventually(lambda: a.running() == {1, 2}, "both running")
    workers = [o.worker for o in a.supervisor.owned.values()]
    await gate.cut()
    # Within most of a TTL the leases may be someone else's: every worker is stopped.
    await eventually(lambda: all(w is not None and w.exited.is_set() for w in workers),
                     "every worker stopped", timeout_s=4 * TTL_S)
    assert not a.supervisor.owned
    if a.task is not None:
        a.task.cancel()
        await asyncio.gather(a.task, return_exceptions=True)
    a.task = None
    world[2].remove(a)
    await gated.aclose()
