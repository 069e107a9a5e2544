"""Camera streams WebRTC must cope with: B-frames (refused, clearly) and long GOPs."""

from __future__ import annotations

import httpx
from streaming_support import World, _stop, start_camsim
from whep_client import whep_close, whep_connect


async def test_bframes_stream_is_refused(world: World, client: httpx.AsyncClient) -> None:
    sim = start_camsim("--bframes", "2", "--profile", "main", cameras=1)
    try:
        camera_id = await world.add_camera("bframes", sim.url(1), connect_timeout_s=2.0)
        resp, viewer = await whep_connect(client, f"/whep/{camera_id}", world.auth())
        assert viewer is None
        assert resp.status_code == 502, resp.text
        assert "B-frames" in resp.json()["detail"]
        resp = await client.post("/v1/streams/start", json={"camera_id": camera_id},
                                 headers=world.auth())
        assert resp.status_code == 502
    finally:
        _stop(sim.proc)


async def test_long_gop_camera_that_waits_for_its_keyframe_starts_and_reconnects(
    world: World, client: httpx.AsyncClient
) -> None:
    """A camera that sends nothing after PLAY until its next keyframe (a 5 s GOP here, ten
    times its 0.5 s read timeout) starts, and after a dropped connection the pull reconnects
    once and waits for the keyframe instead of timing out again and again."""
    sim = start_camsim("--gop", "5", "--resolution", "320x180", "--fps", "10", cameras=1)
    try:
        camera_id = await world.add_camera("long-gop", sim.url(1), read_timeout_s=0.5)
        resp, viewer = await whep_connect(client, f"/whep/{camera_id}", world.auth())
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        assert len(await viewer.frames(1, timeout_s=20)) == 1  # just after a keyframe
        source = world.app.state.sources.sources[(camera_id, "main")]
        async with httpx.AsyncClient(timeout=5) as control:
            cut = await control.post(f"http://127.0.0.1:{sim.control_port}/faults/cam1",
                                     json={"drop": True})
            assert cut.status_code == 200, cut.text
        # The reconnection lands early in the GOP: seconds of silence before the keyframe.
        assert len(await viewer.frames(20, timeout_s=20)) == 20
        assert source.restarts == 1
        await whep_close(client, viewer, world.auth())
    finally:
        _stop(sim.proc)
