"""Health, readiness, metrics, static hls.js, CORS, and audio a browser cannot take."""

from __future__ import annotations

import httpx
from streaming_support import World, _stop, start_camsim
from whep_client import whep_close, whep_connect


async def test_health_ready_metrics_static(world: World, client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["management"] == "ok"
    text = (await client.get("/metrics")).text
    for name in ("argus_streaming_viewers", "argus_streaming_sessions",
                 "argus_streaming_bytes_sent_total", "argus_streaming_frames_dropped_total",
                 "argus_streaming_source_restarts_total",
                 "argus_streaming_time_to_first_frame_seconds"):
        assert name in text, name
    js = await client.get("/static/hls.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    pre = await client.options(f"/whep/{world.camera_id}", headers={
        "Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"


async def test_aac_audio_is_dropped_video_plays(world: World, client: httpx.AsyncClient) -> None:
    sim = start_camsim("--audio", cameras=1)
    try:
        camera_id = await world.add_camera("with-aac", sim.url(1), connect_timeout_s=2.0)
        headers = world.auth()
        resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers, audio=True)
        assert resp.status_code == 201, resp.text
        assert viewer is not None
        # AAC cannot go to a browser as it is: the answer sends no audio.
        audio = resp.text.split("m=audio", 1)[1] if "m=audio" in resp.text else ""
        assert "a=sendonly" not in audio and "a=sendrecv" not in audio
        assert len(await viewer.frames(5, timeout_s=15)) == 5
        assert await whep_close(client, viewer, headers) == 200
    finally:
        _stop(sim.proc)
