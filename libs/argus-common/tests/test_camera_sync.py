"""Camera reloads and changes: retried while management is away, changes on the real Redis
``argus:cameras`` channel applied one by one (a deleted camera as None)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from argus_common.bus import RedisBus
from argus_common.camera_sync import CameraSync
from argus_common.cameras import Camera
from argus_common.errors import Unavailable
from argus_common.events import CHANNEL_CAMERAS, CameraChanged
from argus_testkit import stack as kit


def camera(camera_id: int, name: str = "") -> Camera:
    return Camera.from_api({"id": camera_id, "stream_url": f"rtsp://h/{camera_id}",
                            "name": name})


class Source:
    """Management as the sync sees it; ``down`` calls fail like an unreachable one."""

    def __init__(self) -> None:
        self.items = {1: camera(1), 2: camera(2)}
        self.down = 0

    async def cameras(self) -> list[Camera]:
        if self.down:
            self.down -= 1
            raise Unavailable("management unreachable: ConnectError")
        return list(self.items.values())

    async def camera(self, camera_id: int) -> Camera | None:
        return self.items.get(camera_id)


class Target:
    """Records what the sync applies."""

    def __init__(self) -> None:
        self.desired: dict[int, Camera] = {}
        self.loads = 0
        self.changes: asyncio.Queue[tuple[int, Camera | None]] = asyncio.Queue()

    def set_cameras(self, cameras: list[Camera]) -> None:
        self.desired = {c.id: c for c in cameras}
        self.loads += 1

    async def camera_changed(self, camera_id: int, camera: Camera | None) -> None:
        await self.changes.put((camera_id, camera))


@pytest.fixture
async def bus() -> AsyncIterator[RedisBus]:
    async with kit.redis_bus("argus-sync") as b:
        yield b


async def test_reload_is_retried_until_management_answers(
    bus: RedisBus, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("argus_common.camera_sync.RETRY_S", 0.05)
    source, target = Source(), Target()
    source.down = 2
    sync = CameraSync(source, target, bus, refresh_s=60)
    task = asyncio.create_task(sync.reload_forever())
    try:
        async with asyncio.timeout(5):
            applied = {(await target.changes.get())[0] for _ in range(2)}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert applied == {1, 2} and target.loads == 1 and source.down == 0


async def test_changes_are_fetched_and_applied_and_deletions_are_none(bus: RedisBus) -> None:
    source, target = Source(), Target()
    sync = CameraSync(source, target, bus, refresh_s=60)
    task = asyncio.create_task(sync.follow_changes())
    try:
        async with asyncio.timeout(10):
            # The subscription starts in the task: publish until someone listens.
            while await bus.publish(CHANNEL_CAMERAS, CameraChanged(camera_id=5,
                                                                   action="created")) == 0:
                await asyncio.sleep(0.02)
            assert await target.changes.get() == (5, None)  # unknown to management: gone
            source.items[2] = camera(2, "renamed")
            await bus.redis.publish(bus.key(CHANNEL_CAMERAS), "not json")  # skipped
            await bus.publish(CHANNEL_CAMERAS, CameraChanged(camera_id=2, action="updated"))
            changed = await target.changes.get()
            assert changed[0] == 2 and changed[1] is not None and changed[1].name == "renamed"
            await bus.publish(CHANNEL_CAMERAS, CameraChanged(camera_id=1, action="deleted"))
            assert await target.changes.get() == (1, None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
