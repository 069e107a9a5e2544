"""Headless Chromium plays live WHEP and live HLS (hls.js, bundled)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM, chromium, open_player, poll
from streaming_support import HEIGHT, WIDTH, World

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")



async def test_chromium_plays_whep(world: World) -> None:
    async with chromium(mdns=True) as context:
        page = await open_player(context, world.base_url)
        token = world.token(world.viewer_id)
        result = await page.evaluate(
            "([u, t]) => argus.whep(u, t, true).then(r => ({...r, firstFrame: undefined}))",
            [f"/whep/{world.camera_id}", token])
        assert result["status"] == 201, result
        assert result["location"].startswith("/whep/sessions/")
        # A real Chrome offers only mDNS host candidates; the answer must not wait on them.
        assert ".local" in result["offer"]
        stats = await poll(page, "argus.videoStats()",
                            lambda s: s and s["framesDecoded"] > 10, 15)
        assert stats["framesDecoded"] > 10, stats
        assert stats["keyFramesDecoded"] >= 1
        assert (stats["frameWidth"], stats["frameHeight"]) == (WIDTH, HEIGHT)
        status = await page.evaluate(
            "([l, t]) => fetch(l, {method: 'DELETE', headers: {Authorization: 'Bearer ' + t}})"
            ".then(r => r.status)", [result["location"], token])
        assert status == 200


async def test_chromium_plays_hls(world: World) -> None:
    async with chromium() as context:
        page = await open_player(context, world.base_url, hls=True)
        resp = await page.request.post(
            f"{world.base_url}/v1/streams/start", data={"camera_id": world.camera_id},
            headers={"Authorization": f"Bearer {world.token(world.viewer_id)}"})
        assert resp.status == 200
        url = (await resp.json())["hls_url"]
        await page.evaluate("u => argus.hls(u, true)", url)
        frames = await poll(
            page, "argus.video.getVideoPlaybackQuality().totalVideoFrames",
            lambda n: n and n > 10, 20)
        error = await page.evaluate("argus.hlsError || null")
        assert frames and frames > 10, error
        size = await page.evaluate("[argus.video.videoWidth, argus.video.videoHeight]")
        assert size == [WIDTH, HEIGHT]
        assert await page.evaluate("argus.video.currentTime") > 0
