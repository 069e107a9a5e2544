"""Revocation ends video (issue W2 3/10, finding 2): a viewer whose grant is removed, who
is disabled or who logs out loses live WHEP video and HLS media within 5 s; media tickets
are bound to their user and session, expire when unused, and a shared HLS session cannot
be stopped by a viewer who joined it. Real management (its API and ``argus:authz``), a
real camera and an aiortc viewer."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiortc.mediastreams import MediaStreamError
from streaming_support import ADMIN_PASSWORD, World
from whep_client import WhepViewer, whep_close, whep_connect

from argus_streaming.auth.revocation import AccessWatcher
from argus_streaming.webrtc.sessions import WhepManager

REVOKE_S = 5.0  # the promise: a revocation ends video within this


async def _subscribed(world: World) -> None:
    watcher: AccessWatcher = world.app.state.access
    await asyncio.wait_for(watcher.subscribed.wait(), 10)


async def _login(world: World, name: str, password: str) -> str:
    """An access token from management's login (real tokens, with their family)."""
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.post("/api/v1/auth/login", data={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


async def _admin(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _login(world, 'admin', ADMIN_PASSWORD)}"}


async def _new_user(world: World, *, cameras: list[int], roles: tuple[str, ...] = ("viewer",)
                    ) -> tuple[int, str]:
    """A fresh user granted ``cameras``, logged in through management: (id, access token)."""
    name, password = f"rv-{uuid.uuid4().hex[:8]}", "viewer-password-1"
    admin = await _admin(world)
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.post("/api/v1/users", headers=admin, json={
            "username": name, "password": password, "roles": list(roles)})
        assert r.status_code == 201, r.text
        uid = int(r.json()["id"])
        r = await mgmt.put(f"/api/v1/users/{uid}/cameras", headers=admin,
                           json={"camera_ids": cameras})
        assert r.status_code == 200, r.text
    return uid, await _login(world, name, password)


async def _watching(client: httpx.AsyncClient, world: World, token: str) -> WhepViewer:
    resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}",
                                      {"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    assert len(await viewer.frames(5, timeout_s=15)) == 5
    return viewer


async def _ended(world: World, viewer: WhepViewer, timeout_s: float) -> float:
    """Seconds until the server dropped the session and the viewer's video stopped."""
    started = time.monotonic()
    manager: WhepManager = world.app.state.whep
    sid = viewer.location.rsplit("/", 1)[1]
    track = await asyncio.wait_for(asyncio.shield(viewer.track), 5)
    async with asyncio.timeout(timeout_s):
        while sid in manager.sessions:
            await asyncio.sleep(0.05)
        # The viewer sees its track end (RTCP BYE / closed transport): recv raises.
        with pytest.raises(MediaStreamError):
            for _ in range(10_000):
                await track.recv()
    return time.monotonic() - started


async def _revoked_after(world: World, viewer: WhepViewer, client: httpx.AsyncClient,
                         token: str) -> None:
    try:
        took = await _ended(world, viewer, REVOKE_S)
        assert took < REVOKE_S
        # The same token opens nothing new either.
        resp, again = await whep_connect(client, f"/whep/{world.camera_id}",
                                         {"Authorization": f"Bearer {token}"})
        assert again is None and resp.status_code in (401, 404), resp.text
    finally:
        await viewer.pc.close()


async def test_removed_grant_ends_live_whep(world: World, client: httpx.AsyncClient) -> None:
    await _subscribed(world)
    uid, token = await _new_user(world, cameras=[world.camera_id])
    viewer = await _watching(client, world, token)
    admin = await _admin(world)
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.put(f"/api/v1/users/{uid}/cameras", headers=admin,
                           json={"camera_ids": []})
        assert r.status_code == 200, r.text
    await _revoked_after(world, viewer, client, token)


async def test_logout_ends_live_whep(world: World, client: httpx.AsyncClient) -> None:
    await _subscribed(world)
    _, token = await _new_user(world, cameras=[world.camera_id])
    viewer = await _watching(client, world, token)
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204, r.text
    await _revoked_after(world, viewer, client, token)


async def test_disabled_user_loses_live_whep(world: World, client: httpx.AsyncClient) -> None:
    await _subscribed(world)
    uid, token = await _new_user(world, cameras=[world.camera_id])
    viewer = await _watching(client, world, token)
    # A second viewer of the same camera who is not touched keeps watching.
    _, other_token = await _new_user(world, cameras=[world.camera_id])
    other = await _watching(client, world, other_token)
    try:
        admin = await _admin(world)
        async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
            r = await mgmt.patch(f"/api/v1/users/{uid}", headers=admin,
                                 json={"is_active": False})
            assert r.status_code == 200, r.text
        await _revoked_after(world, viewer, client, token)
        assert len(await other.frames(10, timeout_s=10)) == 10
    finally:
        await whep_close(client, other, {"Authorization": f"Bearer {other_token}"})


def _ticket(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_hls_media_refused_after_revocation(world: World, client: httpx.AsyncClient
                                                  ) -> None:
    await _subscribed(world)
    uid, token = await _new_user(world, cameras=[world.camera2_id])
    resp = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    url, sid = resp.json()["hls_url"], resp.json()["session_id"]
    playlist = await client.get(url)
    assert playlist.status_code == 200, playlist.text
    segment = f"/hls/{sid}/i0.mp4?token={_ticket(url)}"
    assert (await client.get(segment)).status_code == 200
    admin = await _admin(world)
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.put(f"/api/v1/users/{uid}/cameras", headers=admin,
                           json={"camera_ids": []})
        assert r.status_code == 200, r.text
    started = time.monotonic()
    status = 200
    while time.monotonic() - started < REVOKE_S and status == 200:
        status = (await client.get(segment)).status_code
        await asyncio.sleep(0.1)
    assert status in (401, 404), status
    assert (await client.get(url)).status_code in (401, 404)
    # Its only viewer is gone: the session itself stopped too.
    assert sid not in world.app.state.hls.sessions


async def test_expired_media_ticket_is_refused(world: World, client: httpx.AsyncClient
                                               ) -> None:
    _, token = await _new_user(world, cameras=[world.camera_id])
    tickets = world.app.state.tickets
    real_clock = tickets._clock
    try:
        resp = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                                 headers={"Authorization": f"Bearer {token}"})
        url = resp.json()["hls_url"]
        assert (await client.get(url)).status_code == 200  # renews it
        # Unused for longer than its lifetime: the store's clock moves on. (A real wait let
        # a periodic sweep or the session's own stop under load drop the ticket first, which
        # answers "invalid or revoked" instead.)
        tickets._clock = lambda: real_clock() + tickets.ttl_s + 1.0
        expired = await client.get(url)
        assert expired.status_code == 401
        assert expired.json() == {"error": "Unauthorized", "detail": "media token expired"}
    finally:
        tickets._clock = real_clock
        await world.app.state.hls.stop(resp.json()["session_id"])


async def test_media_ticket_is_bound_to_its_user_and_session(
    world: World, client: httpx.AsyncClient
) -> None:
    _, user_a = await _new_user(world, cameras=[world.camera_id])
    admin = await _admin(world)
    a = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                          headers={"Authorization": f"Bearer {user_a}"})
    b = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                          headers=admin)
    assert a.status_code == b.status_code == 200
    a_ticket, b_sid = _ticket(a.json()["hls_url"]), b.json()["session_id"]
    try:
        assert (await client.get(b.json()["hls_url"])).status_code == 200
        # User A's ticket does not open user B's session, nor any of its files.
        for name in ("index.m3u8", "i0.mp4"):
            r = await client.get(f"/hls/{b_sid}/{name}?token={a_ticket}")
            assert r.status_code == 404, r.text
        # Nor is an access token (or anything else) a media ticket.
        access = admin["Authorization"].split()[1]
        r = await client.get(f"/hls/{b_sid}/index.m3u8?token={access}")
        assert r.status_code == 401
    finally:
        await world.app.state.hls.stop(a.json()["session_id"])
        await world.app.state.hls.stop(b_sid)


async def test_a_joined_viewer_cannot_stop_a_shared_hls_session(
    world: World, client: httpx.AsyncClient
) -> None:
    _, owner = await _new_user(world, cameras=[world.camera_id])
    _, joined = await _new_user(world, cameras=[world.camera_id])
    _, bystander = await _new_user(world, cameras=[world.camera_id])
    urls = []
    for token in (owner, joined):
        r = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                              headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        urls.append(r.json()["hls_url"])
    owner_url, joined_url = urls
    sid = urlsplit(owner_url).path.split("/")[2]
    manager = world.app.state.hls
    assert manager.sessions[sid].owner != ""
    try:
        # Someone who never joined may not stop it.
        r = await client.post("/v1/streams/stop", json={"session_id": sid},
                              headers={"Authorization": f"Bearer {bystander}"})
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
        # The viewer who joined only leaves: the owner keeps watching.
        r = await client.post("/v1/streams/stop", json={"session_id": sid},
                              headers={"Authorization": f"Bearer {joined}"})
        assert (r.status_code, r.json()) == (200, {"status": "stopped"})
        assert sid in manager.sessions
        assert (await client.get(joined_url)).status_code == 401
        assert (await client.get(owner_url)).status_code == 200
        # The owner stops it for everyone.
        r = await client.post("/v1/streams/stop", json={"session_id": sid},
                              headers={"Authorization": f"Bearer {owner}"})
        assert (r.status_code, r.json()) == (200, {"status": "stopped"})
        assert sid not in manager.sessions
    finally:
        await manager.stop(sid)


async def test_per_user_session_cap(world: World, client: httpx.AsyncClient) -> None:
    settings = world.app.state.settings
    old = settings.max_sessions_per_user
    settings.max_sessions_per_user = 1
    _, token = await _new_user(world, cameras=[world.camera_id, world.camera2_id])
    headers = {"Authorization": f"Bearer {token}"}
    sids = []
    try:
        r = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                              headers=headers)
        assert r.status_code == 200, r.text
        sids.append(r.json()["session_id"])
        # The same session again reuses the ticket: not a second session.
        again = await client.post("/v1/streams/start", json={"camera_id": world.camera_id},
                                  headers=headers)
        assert again.status_code == 200
        r = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                              headers=headers)
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "TooManyRequests"
        assert world.app.state.hls._by_camera.get(world.camera2_id) is None
        resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", headers)
        assert viewer is None and resp.status_code == 429
        # Another user is not affected.
        _, other = await _new_user(world, cameras=[world.camera2_id])
        r = await client.post("/v1/streams/start", json={"camera_id": world.camera2_id},
                              headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 200
        sids.append(r.json()["session_id"])
    finally:
        settings.max_sessions_per_user = old
        for sid in sids:
            await world.app.state.hls.stop(sid)
