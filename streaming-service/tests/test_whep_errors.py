"""WHEP errors: auth, access, unknown and unreachable cameras, bad offers."""

from __future__ import annotations

import time

import httpx
from streaming_support import World
from whep_client import whep_connect

OFFER_HEADERS = {"Content-Type": "application/sdp"}


async def test_no_token_401(world: World, client: httpx.AsyncClient) -> None:
    resp = await client.post(f"/whep/{world.camera_id}", content=b"v=0", headers=OFFER_HEADERS)
    assert resp.status_code == 401
    assert resp.json() == {"error": "Unauthorized", "detail": "not authenticated"}


async def test_bad_token_401(world: World, client: httpx.AsyncClient) -> None:
    headers = {**OFFER_HEADERS, "Authorization": "Bearer not-a-jwt"}
    resp = await client.post(f"/whep/{world.camera_id}", content=b"v=0", headers=headers)
    assert resp.status_code == 401
    media = world.codec.issue(str(world.admin_id), "media", 60).token
    headers = {**OFFER_HEADERS, "Authorization": f"Bearer {media}"}
    resp = await client.post(f"/whep/{world.camera_id}", content=b"v=0", headers=headers)
    assert resp.status_code == 401


async def test_camera_not_granted_404(world: World, client: httpx.AsyncClient) -> None:
    resp, _ = await whep_connect(client, f"/whep/{world.camera2_id}", world.auth(world.viewer_id))
    assert resp.status_code == 404
    resp, _ = await whep_connect(client, f"/whep/{world.camera_id}", world.auth(world.outsider_id))
    assert resp.status_code == 404


async def test_unknown_camera_404(world: World, client: httpx.AsyncClient) -> None:
    resp, _ = await whep_connect(client, "/whep/999999", world.auth())
    assert resp.status_code == 404
    assert resp.json()["error"] == "NotFound"
    resp = await client.post("/whep/0", content=b"v=0", headers={**OFFER_HEADERS,
                                                                 **world.auth()})
    assert resp.status_code == 422


async def test_unreachable_camera_502_within_timeout(
    world: World, client: httpx.AsyncClient
) -> None:
    t0 = time.monotonic()
    resp, viewer = await whep_connect(client, f"/whep/{world.dead_camera_id}", world.auth())
    elapsed = time.monotonic() - t0
    assert resp.status_code in (502, 504), resp.text
    assert "connect" in resp.json()["detail"]
    assert viewer is None
    assert elapsed < 3.0  # the camera's connect timeout is 1 s


async def test_bad_offers(world: World, client: httpx.AsyncClient) -> None:
    h = world.auth()
    resp = await client.post(f"/whep/{world.camera_id}", content=b"v=0",
                             headers={**h, "Content-Type": "text/plain"})
    assert resp.status_code == 415
    resp = await client.post(f"/whep/{world.camera_id}", content=b"garbage\r\n",
                             headers={**h, **OFFER_HEADERS})
    assert resp.status_code == 422
    audio_only = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n")
    resp = await client.post(f"/whep/{world.camera_id}", content=audio_only.encode(),
                             headers={**h, **OFFER_HEADERS})
    assert resp.status_code == 422
    broken_h264 = ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n"
                   "a=fmtp:96 packetization-mode=1\r\n")
    resp = await client.post(f"/whep/{world.camera_id}", content=broken_h264.encode(),
                             headers={**h, **OFFER_HEADERS})
    assert resp.status_code == 400, resp.text
    resp = await client.post(f"/whep/{world.camera_id}", content=b"x" * 70000,
                             headers={**h, **OFFER_HEADERS})
    assert resp.status_code == 413


async def test_delete_unknown_session_404(world: World, client: httpx.AsyncClient) -> None:
    resp = await client.delete("/whep/sessions/nope", headers=world.auth())
    assert resp.status_code == 404
    resp = await client.patch("/whep/sessions/nope", headers=world.auth())
    assert resp.status_code == 405
