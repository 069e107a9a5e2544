"""Headless Chromium plays live WHEP and live HLS (hls.js, bundled)."""

from __future__ import annotations

from browser_support import assert_hls_plays, chromium, open_player, poll, start_live_hls
from streaming_support import HEIGHT, WIDTH, World

from argus_testkit.tools import needs

pytestmark = needs("chromium")



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
        body = await start_live_hls(page, world.base_url, world.camera_id,
                                    world.token(world.viewer_id))
        await page.evaluate("u => argus.hls(u, true)", body["hls_url"])
        await assert_hls_plays(page, 10, (WIDTH, HEIGHT))
        assert await page.evaluate("argus.video.currentTime") > 0
