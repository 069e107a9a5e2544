"""Live WebRTC over WHEP from a simulator camera, received by an aiortc client."""

from __future__ import annotations

import httpx
from streaming_support import HEIGHT, WIDTH, World
from whep_client import whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms


async def test_aiortc_client_receives_live_frames(world: World, client: httpx.AsyncClient) -> None:
    headers = world.auth(world.viewer_id)
    resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", headers)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/sdp")
    assert resp.headers["location"].startswith("/whep/sessions/")
    assert viewer is not None
    frames = await viewer.frames(45, timeout_s=15)
    assert len(frames) == 45
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}  # type: ignore[attr-defined]
    stamps = [read_timestamp_ms(f.to_ndarray(format="gray"), WIDTH, HEIGHT)  # type: ignore[attr-defined]
              for f in frames[-10:]]
    assert sum(s is not None for s in stamps) >= 8
    assert await whep_close(client, viewer, headers) == 200
