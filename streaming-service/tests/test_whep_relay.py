"""One pull per camera stream, linger after the last viewer, slow viewers isolated."""

from __future__ import annotations

import asyncio
import time

import httpx
from streaming_support import HEIGHT, WIDTH, World
from whep_client import whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms
from argus_streaming.live.manager import SourceManager


def _sources(world: World) -> SourceManager:
    manager: SourceManager = world.app.state.sources
    return manager


async def _wait_until(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


async def test_two_viewers_share_one_pull_and_it_stops_after_the_last(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.auth()
    cam = world.camera2_id
    viewers = []
    for _ in range(2):
        resp, viewer = await whep_connect(client, f"/whep/{cam}", headers)
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        viewers.append(viewer)
    for v in viewers:
        assert len(await v.frames(10, timeout_s=15)) == 10
    running = [k for k in _sources(world).sources if k[0] == cam]
    assert running == [(cam, "main")]
    source = _sources(world).sources[(cam, "main")]
    assert len(source.subscribers) == 2
    assert source.restarts == 0
    # The sub stream is a pull of its own.
    resp, sub_viewer = await whep_connect(client, f"/whep/{cam}?stream=sub", headers)
    assert resp.status_code == 201
    assert sub_viewer is not None
    frames = await sub_viewer.frames(3, timeout_s=15)
    assert (frames[0].width, frames[0].height) == (160, 90)  # type: ignore[attr-defined]
    assert sorted(k for k in _sources(world).sources if k[0] == cam) == [
        (cam, "main"), (cam, "sub")]
    assert await whep_close(client, sub_viewer, headers) == 200
    assert await whep_close(client, viewers[0], headers) == 200
    await asyncio.sleep(1.5)  # longer than the linger: one viewer left keeps the pull
    assert (cam, "main") in _sources(world).sources
    assert await whep_close(client, viewers[1], headers) == 200
    # Linger is 1 s in tests: the pull stops shortly after the last viewer left.
    assert await _wait_until(lambda: (cam, "main") not in _sources(world).sources, 5)
    assert source.running is False


async def test_stalled_viewer_does_not_delay_another(
    world: World, client: httpx.AsyncClient
) -> None:
    cam = world.camera_id
    headers = world.auth()
    # A viewer that never reads: its queue must stay bounded and drop, not hold anyone up.
    manager = _sources(world)
    stalled = manager.new_subscriber(cam, audio=False)
    source, _ = await manager.attach(cam, "main", stalled)
    try:
        resp, viewer = await whep_connect(client, f"/whep/{cam}", headers)
        assert resp.status_code == 201
        assert viewer is not None
        await viewer.frames(30, timeout_s=15)  # past start-up
        frames = await viewer.timed_frames(60, timeout_s=15)
        lags = []
        for f, arrived in frames:
            stamp = read_timestamp_ms(f.to_ndarray(format="gray"), WIDTH, HEIGHT)  # type: ignore[attr-defined]
            if stamp is not None:
                lags.append(arrived - stamp)
        assert len(lags) >= 50
        lags.sort()
        # Camera to decoded frame on this machine, with a stalled viewer on the same source.
        assert lags[len(lags) // 2] < 250, lags
        assert len(stalled.video) <= manager.settings.viewer_queue_frames
        assert stalled.video.dropped > 0
        assert await whep_close(client, viewer, headers) == 200
    finally:
        source.detach(stalled)


async def test_viewer_limit_gives_429(world: World, client: httpx.AsyncClient) -> None:
    settings = _sources(world).settings
    old = settings.max_viewers_per_camera
    # Viewers left by other tests (browsers closed without DELETE) still count.
    settings.max_viewers_per_camera = _sources(world).viewers(world.camera_id) + 1
    headers = world.auth()
    try:
        resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", headers)
        assert resp.status_code == 201
        assert viewer is not None
        resp2, none = await whep_connect(client, f"/whep/{world.camera_id}", headers)
        assert resp2.status_code == 429
        assert resp2.json()["error"] == "TooManyRequests"
        assert none is None
        await whep_close(client, viewer, headers)
    finally:
        settings.max_viewers_per_camera = old
