"""The supervisor's ``ride_out`` policy against the real Redis (reached through a relay the
test cuts and restores): workers keep running while Redis is away, a lease nobody holds is
taken back, a lease someone else took stops the worker, and a lost camera is not taken
again while its old worker still runs. Also the camera cache of ``CameraSync``."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from argus_common.bus import RedisBus
from argus_common.camera_sync import CameraCache, CameraSync
from argus_common.cameras import Camera
from argus_common.leases import Leases
from argus_common.supervisor import Crew, Owned, Supervisor

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]
TTL_S = 1.0


class Worker:
    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.stopped = threading.Event()
        self.release = threading.Event()
        self.exited = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def join(self, timeout: float | None = None) -> None:
        if self.stopped.wait(timeout) and self.release.wait(timeout):
            self.exited.set()


class Workers(Crew[Camera, Worker, None]):
    def __init__(self) -> None:
        self.started: list[Worker] = []

    def wants(self, camera: Camera) -> bool:
        return camera.enabled

    def new_state(self, camera: Camera) -> None:
        return None

    def start_worker(self, owned: Owned[Camera, Worker, None]) -> Worker:
        worker = Worker(owned.camera)
        self.started.append(worker)
        return worker


class Relay:
    """A TCP relay to Redis on a fixed port that can be cut and opened again."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = urlsplit(REDIS_URL)
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
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
        self.writers.clear()
        await self.server.wait_closed()


async def eventually(check: Callable[[], Any], what: str, timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def camera(camera_id: int) -> Camera:
    return Camera.from_api({"id": camera_id, "stream_url": f"rtsp://h/main{camera_id}"})


@pytest.fixture
async def gated() -> AsyncIterator[tuple[Redis, Redis, Relay, str]]:
    relay = Relay()
    port = await relay.open()
    direct = Redis.from_url(REDIS_URL)
    through = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.3,
                             socket_connect_timeout=0.3)
    namespace = f"argus-ride-{uuid.uuid4().hex[:8]}"
    yield direct, through, relay, namespace
    await through.aclose()
    keys = [k async for k in direct.scan_iter(match=f"{namespace}:*")]
    if keys:
        await direct.delete(*keys)
    await direct.aclose()
    if relay.server is not None:
        relay.server.close()


async def _run(sup: Supervisor[Camera, Worker, None], cameras: list[Camera]
               ) -> asyncio.Task[None]:
    sup.set_cameras(cameras)
    return asyncio.create_task(sup.run())


async def _close(task: asyncio.Task[None], sup: Supervisor[Camera, Worker, None],
                 crew: Workers) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for worker in crew.started:
        worker.release.set()
    await asyncio.wait_for(sup.shutdown(), 10)


async def test_workers_ride_out_an_outage_and_keep_or_lose_their_leases(
    gated: tuple[Redis, Redis, Relay, str],
) -> None:
    direct, through, relay, namespace = gated
    crew = Workers()
    leases = Leases(through, namespace, "unit", "a", TTL_S)
    sup: Supervisor[Camera, Worker, None] = Supervisor(leases, crew, TTL_S, ride_out=True)
    task = await _run(sup, [camera(1), camera(2)])
    try:
        await eventually(lambda: set(sup.owned) == {1, 2} and all(
            o.worker for o in sup.owned.values()), "both running")
        first = {c: o.worker for c, o in sup.owned.items()}
        await relay.cut()
        # Three TTLs without Redis: the leases expire there, the workers keep running.
        await eventually(lambda: not sup.reachable, "the outage noticed")
        await asyncio.sleep(3 * TTL_S)
        assert set(sup.owned) == {1, 2}
        assert not any(w is None or w.stopped.is_set() for w in first.values())
        assert await direct.get(leases.key("1")) is None  # expired on the Redis side
        # Meanwhile someone else took camera 2 (its lease had expired).
        await direct.set(leases.key("2"), "other:token", px=60_000)
        await relay.open()
        await eventually(lambda: sup.reachable, "Redis reached again")
        # Camera 1: nobody held it, it is ours again without a restart.
        await eventually(lambda: 2 not in sup.owned, "camera 2 given up")
        assert (await direct.get(leases.key("1"))) == leases.token.encode()
        assert sup.owned[1].worker is first[1] and not first[1].stopped.is_set()
        # Camera 2: stopped, left to its new holder, and stays stopping (not taken again)
        # while the old worker has not exited, even once its lease is free.
        worker2 = first[2]
        assert worker2 is not None and worker2.stopped.is_set()
        assert 2 in sup.stopping
        await direct.delete(leases.key("2"))
        await asyncio.sleep(2 * TTL_S)
        assert 2 not in sup.owned and len(crew.started) == 2
        worker2.release.set()
        await eventually(lambda: 2 in sup.owned and sup.owned[2].worker is not None,
                         "camera 2 taken again after its old worker exited")
        assert len(crew.started) == 3
    finally:
        await _close(task, sup, crew)


async def test_without_ride_out_an_outage_still_stops_every_worker(
    gated: tuple[Redis, Redis, Relay, str],
) -> None:
    _, through, relay, namespace = gated
    crew = Workers()
    sup: Supervisor[Camera, Worker, None] = Supervisor(
        Leases(through, namespace, "unit", "b", TTL_S), crew, TTL_S)
    task = await _run(sup, [camera(1)])
    try:
        await eventually(lambda: bool(crew.started), "running")
        crew.started[0].release.set()
        await relay.cut()
        await eventually(lambda: crew.started[0].exited.is_set(), "stopped", 4 * TTL_S)
    finally:
        await _close(task, sup, crew)


class Source:
    def __init__(self, cameras: list[Camera] | None) -> None:
        self.list = cameras

    async def cameras(self) -> list[Camera]:
        if self.list is None:
            raise ConnectionError("management down")
        return self.list

    async def camera(self, camera_id: int) -> Camera | None:
        raise ConnectionError("management down")


class Target:
    def __init__(self) -> None:
        self.desired: dict[int, Camera] = {}

    def set_cameras(self, cameras: list[Camera]) -> None:
        self.desired = {c.id: c for c in cameras}

    async def camera_changed(self, camera_id: int, camera: Camera | None) -> None:
        pass


async def test_camera_list_comes_from_the_cache_while_management_is_down(
    tmp_path: Path,
) -> None:
    bus = RedisBus(Redis.from_url(REDIS_URL), "unused")
    cache: CameraCache[Camera] = CameraCache(tmp_path / "state" / "cameras.json", Camera)
    secret = Camera.from_api({"id": 7, "stream_url": "rtsp://h/x", "password": "pw"})
    first = CameraSync(Source([camera(3), secret]), Target(), bus, 60, cache=cache)
    await first.reload()
    assert (tmp_path / "state" / "cameras.json").stat().st_mode & 0o777 == 0o600
    # A restart while management is down: the cached list, credentials included.
    target = Target()
    second = CameraSync(Source(None), target, bus, 60, cache=cache)
    with pytest.raises(ConnectionError):
        await second.reload()
    assert second.from_cache and set(target.desired) == {3, 7}
    assert target.desired[7].password == "pw"
    # Management back: its list replaces the cached one.
    second.source = Source([camera(3)])
    await second.reload()
    assert not second.from_cache and set(target.desired) == {3}
    # Nothing cached yet and management down: nothing loaded, no error beyond its own.
    empty = Target()
    with pytest.raises(ConnectionError):
        await CameraSync(Source(None), empty, bus, 60,
                         cache=CameraCache(tmp_path / "none.json", Camera)).reload()
    assert not empty.desired
    await bus.redis.aclose()
