"""Live HLS sessions: shared per camera, tokenised URLs, LL-HLS parts and blocking reload,
TTL and idle cleanup."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
from hls_support import decode, parse_playlist
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
    # Plain (non-LL) players read whole segments: wait (blocking reload) for six, the
    # ramp-up (one-part segments up to the second keyframe) and a whole GOP at least.
    parsed = parse_playlist(playlist.text)
    for _ in range(10):  # one segment further per blocking reload (at most two ahead)
        if len(parsed.segments) >= 6:
            break
        playlist = await client.get(f"{url}&_HLS_msn={parsed.segments[-1].msn + 1}")
        assert playlist.status_code == 200, playlist.text
        parsed = parse_playlist(playlist.text)
    uris = [s.uri for s in parsed.segments] + [parsed.map_uri] + [
        p.uri for p in parsed.parts] + [parsed.hint]
    assert all(u.endswith(f"?token={token}") for u in uris), uris
    assert [s.msn for s in parsed.segments] == [0, 1, 2, 3, 4, 5]
    base = f"/hls/{body1['session_id']}/"
    init = await client.get(base + parsed.map_uri)
    assert init.status_code == 200 and init.headers["content-type"] == "video/mp4"
    media = init.content
    for seg in parsed.segments:
        resp = await client.get(base + seg.uri)
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "video/iso.segment"
        media += resp.content
    frames = decode(media)
    # Five 0.2 s parts and a 1 s GOP at 30 fps, at least.
    assert len(frames) >= 55
    assert (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    listed = await client.get("/v1/streams", headers=world.auth(world.viewer_id))
    assert [s["session_id"] for s in listed.json()] == [body1["session_id"]]
    outsider = await client.get("/v1/streams", headers=world.auth(world.outsider_id))
    assert outsider.json() == []
    stop = await client.post("/v1/streams/stop", json={"session_id": body1["session_id"]},
                             headers=world.auth())
    assert (stop.status_code, stop.json()) == (200, {"status": "stopped"})
    assert (await client.get(url)).status_code == 404


async def test_ll_hls_parts_and_blocking_reload(world: World, client: httpx.AsyncClient
                                                ) -> None:
    resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                             headers=world.auth())
    sid, url = resp.json()["session_id"], resp.json()["hls_url"]
    base = f"/hls/{sid}/"
    text = (await client.get(url)).text
    assert "#EXT-X-PART-INF:PART-TARGET=0.200" in text
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600" in text
    assert "#EXT-X-INDEPENDENT-SEGMENTS" not in text  # the second segment starts mid-GOP
    parsed = parse_playlist(text)
    # A new session lists its first segment once its first part is there.
    assert parsed.segments and parsed.segments[0].msn == 0
    assert parsed.parts and parsed.parts[0].independent
    # Blocking reload: ask for the part after the newest one; the answer lists it.
    for _ in range(8):  # past a segment boundary (the part index wraps to 0)
        msn, part = parsed.next_part()
        r = await client.get(f"{url}&_HLS_msn={msn}&_HLS_part={part}")
        assert r.status_code == 200, r.text
        parsed = parse_playlist(r.text)
        assert parsed.has_part(msn, part), (msn, part, r.text)
    # The preload hint is the next part: its request waits until the part is written.
    hinted = await client.get(base + parsed.hint)
    assert hinted.status_code == 200
    assert hinted.content[4:8] == b"moof"
    init = (await client.get(base + parsed.map_uri)).content
    # Each part is a fragment; an independent one (from a keyframe) decodes alone.
    text = (await client.get(f"{url}&_HLS_msn={parsed.next_part()[0] + 1}")).text
    parsed = parse_playlist(text)
    independent = [p for p in parsed.parts if p.independent]
    assert len(independent) >= 2
    alone = (await client.get(base + independent[-2].uri)).content
    frames = decode(init + alone)
    assert frames and (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    # The parts from that keyframe on decode to one frame per sample (30 fps).
    chain = parsed.parts[parsed.parts.index(independent[-2]):]
    media = init
    for p in chain:
        r = await client.get(base + p.uri)
        assert r.status_code == 200 and r.headers["content-type"] == "video/iso.segment"
        media += r.content
    assert len(decode(media)) >= round(30 * sum(p.duration for p in chain)) - 1
    # Bad directives are 4xx in the error envelope, never a 500.
    for query, status in (("_HLS_part=1", 400), ("_HLS_msn=-1", 422), ("_HLS_msn=x", 422),
                          ("_HLS_msn=1000000", 400), ("_HLS_msn=1&_HLS_part=-2", 422)):
        r = await client.get(f"{url}&{query}")
        assert r.status_code == status, (query, r.text)
        assert set(r.json()) == {"error", "detail"}
    for name in ("p99999999.m4s", "i0.m4s", "s1.mp4", "p1.ts", "x1.m4s"):
        token = parse_qs(urlsplit(url).query)["token"][0]
        assert (await client.get(f"{base}{name}?token={token}")).status_code == 404
    # A blocked reload ends when the session stops (404), not at its timeout.
    msn = parsed.next_part()[0] + 2
    session = _hls(world).sessions[sid]
    waiting = asyncio.create_task(client.get(f"{url}&_HLS_msn={msn}"))
    for _ in range(100):
        if session.playlist.waiting:
            break
        await asyncio.sleep(0.02)
    assert session.playlist.waiting
    await _hls(world).stop(sid)
    assert (await asyncio.wait_for(waiting, 10)).status_code == 404


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
    # A real media ticket, but of another session (camera 2's).
    started2 = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                                 headers=world.auth())
    other = parse_qs(urlsplit(started2.json()["hls_url"]).query)["token"][0]
    assert (await client.get(f"/hls/{sid}/index.m3u8?token={other}")).status_code == 404
    good = parse_qs(urlsplit(started.json()["hls_url"]).query)["token"][0]
    assert (await client.get(f"/hls/{sid}/../../etc/passwd?token={good}")).status_code == 404
    assert (await client.get(f"/hls/{sid}/seg1.mp4?token={good}")).status_code == 404
    await _hls(world).stop(sid)
    await _hls(world).stop(started2.json()["session_id"])


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
