"""Live HLS sessions: shared per camera, tokenised URLs, TTL and idle cleanup."""

from __future__ import annotations

import asyncio
import io
from urllib.parse import parse_qs, urlsplit

import av
import httpx
from streaming_support import HEIGHT, WIDTH, World

from argus_streaming.hls.sessions import HlsManager


def _hls(world: World) -> HlsManager:
    manager: HlsManager = world.app.state.hls
    return manager


async def _wait_gone(world: World, session_id: str, timeout_s: float) -> bool:
    """Until the session is stopped and cleaned up (bounded)."""
    session = _hls(world).sessions[session_id]
    try:
        await asyncio.wait_for(session.stopped.wait(), timeout_s)
    except TimeoutError:
        return False
    return session_id not in _hls(world).sessions


async def test_hls_session_is_shared_and_plays(world: World, client: httpx.AsyncClient) -> None:
    r1 = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                           headers=world.auth(world.viewer_id))
    assert r1.status_code == 200, r1.text
    r2 = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                           headers=world.auth())
    body1, body2 = r1.json(), r2.json()
    assert body1["session_id"] == body2["session_id"]
    assert set(body1) == {"session_id", "camera_id", "hls_url", "expires_at"}
    url = body1["hls_url"]
    assert url.startswith(f"/hls/{body1['session_id']}/index.m3u8?token=")
    playlist = await client.get(url)
    assert playlist.status_code == 200, playlist.text
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    token = parse_qs(urlsplit(url).query)["token"][0]
    segments = [line for line in playlist.text.splitlines() if line and not line[0] == "#"]
    assert segments and all(s.endswith(f"?token={token}") for s in segments)
    seg = await client.get(f"/hls/{body1['session_id']}/{segments[0]}")
    assert seg.status_code == 200
    assert seg.headers["content-type"] == "video/mp2t"
    with av.open(io.BytesIO(seg.content), format="mpegts") as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 20
    assert (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    listed = await client.get("/v1/streams", headers=world.auth(world.viewer_id))
    assert [s["session_id"] for s in listed.json()] == [body1["session_id"]]
    outsider = await client.get("/v1/streams", headers=world.auth(world.outsider_id))
    assert outsider.json() == []
    stop = await client.post("/v1/streams/stop", json={"session_id": body1["session_id"]},
                             headers=world.auth())
    assert stop.status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_hls_errors(world: World, client: httpx.AsyncClient) -> None:
    resp = await client.post("/v1/streams/start", json={"camera_id": 999999},
                             headers=world.auth())
    assert resp.status_code == 404
    resp = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                             headers=world.auth(world.viewer_id))
    assert resp.status_code == 404
    resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id})
    assert resp.status_code == 401
    resp = await client.post("/v1/streams/start", json={"camera_id": "x"}, headers=world.auth())
    assert resp.status_code == 422
    assert resp.json()["error"] == "ValidationError"
    resp = await client.post("/v1/streams/stop", json={"session_id": "nope"},
                             headers=world.auth())
    assert resp.status_code == 404
    started = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                                headers=world.auth())
    sid = started.json()["session_id"]
    assert (await client.get(f"/hls/{sid}/index.m3u8")).status_code == 401
    assert (await client.get(f"/hls/{sid}/index.m3u8?token=bad")).status_code == 401
    access = world.token(world.admin_id)
    assert (await client.get(f"/hls/{sid}/index.m3u8?token={access}")).status_code == 401
    other = world.codec.issue(str(world.admin_id), "media", 60, {"session_id": "other"}).token
    assert (await client.get(f"/hls/{sid}/index.m3u8?token={other}")).status_code == 404
    good = world.codec.issue(str(world.admin_id), "media", 60, {"session_id": sid}).token
    assert (await client.get(f"/hls/{sid}/../../etc/passwd?token={good}")).status_code == 404
    assert (await client.get(f"/hls/{sid}/seg1.mp4?token={good}")).status_code == 404
    await _hls(world).stop(sid)


async def test_hls_ttl_expiry_removes_task_and_directory(
    world: World, client: httpx.AsyncClient
) -> None:
    manager = _hls(world)
    old = manager.ttl_s, manager.idle_s
    manager.ttl_s, manager.idle_s = 1.0, 60.0
    try:
        resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                                 headers=world.auth())
        sid = resp.json()["session_id"]
        session = manager.sessions[sid]
        assert (await client.get(resp.json()["hls_url"])).status_code == 200
        assert session.directory.is_dir()
        assert await _wait_gone(world, sid, 5)
        assert session.task is not None and session.task.done()
        assert not session.directory.exists()
        assert not session.writer._thread.is_alive()
        assert (await client.get(resp.json()["hls_url"])).status_code == 404
    finally:
        manager.ttl_s, manager.idle_s = old


async def test_hls_idle_session_is_stopped(world: World, client: httpx.AsyncClient) -> None:
    manager = _hls(world)
    old = manager.ttl_s, manager.idle_s
    manager.ttl_s, manager.idle_s = 60.0, 1.0
    try:
        resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                                 headers=world.auth())
        sid = resp.json()["session_id"]
        session = manager.sessions[sid]
        # Renewing through /start is not media access: the session still goes idle.
        await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                          headers=world.auth())
        assert await _wait_gone(world, sid, 5)
        assert session.task is not None and session.task.done()
        assert not session.directory.exists()
    finally:
        manager.ttl_s, manager.idle_s = old
