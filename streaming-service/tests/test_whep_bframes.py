"""A camera sending B-frames is refused with a clear error (WebRTC cannot reorder)."""

from __future__ import annotations

import httpx
from streaming_support import World, _stop, start_camsim
from whep_client import whep_connect


async def test_bframes_stream_is_refused(world: World, client: httpx.AsyncClient) -> None:
    sim = start_camsim("--bframes", "2", "--profile", "main", cameras=1)
    try:
        async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
            resp = await mgmt.post("/api/v1/cameras", headers=world.auth(), json={
                "name": "bframes", "stream_url": sim.url(1), "connect_timeout_s": 2.0})
            assert resp.status_code == 201, resp.text
            camera_id = resp.json()["id"]
        resp, viewer = await whep_connect(client, f"/whep/{camera_id}", world.auth())
        assert viewer is None
        assert resp.status_code == 502, resp.text
        assert "B-frames" in resp.json()["detail"]
        resp = await client.post("/v1/streams/start", json={"camera_id": camera_id},
                                 headers=world.auth())
        assert resp.status_code == 502
    finally:
        _stop(sim.proc)
