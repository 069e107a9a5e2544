"""Headless Chromium plays live LL-HLS through the bundled hls.js: with ``lowLatencyMode``
it loads parts (blocking reloads); a plain client (``lowLatencyMode: false``) still plays
the whole segments of the same playlist."""

from __future__ import annotations

import pytest
from browser_support import assert_hls_plays, chromium, open_player, start_live_hls
from streaming_support import HEIGHT, WIDTH, World

from argus_testkit.tools import needs

pytestmark = needs("chromium")



@pytest.mark.parametrize("mode", ["low-latency", "plain"])
async def test_chromium_plays_ll_hls(world: World, mode: str) -> None:
    config = {"lowLatencyMode": mode == "low-latency"}
    async with chromium() as context:
        page = await open_player(context, world.base_url, hls=True)
        body = await start_live_hls(page, world.base_url, world.camera_id,
                                    world.token(world.viewer_id))
        await page.evaluate("([u, c]) => argus.hls(u, c)", [body["hls_url"], config])
        await assert_hls_plays(page, 45, (WIDTH, HEIGHT))
        details = await page.evaluate(
            "(() => { const d = argus.hlsPlayer.levels[0].details;"
            " return {block: d.canBlockReload, parts: (d.partList || []).length,"
            " target: d.partTarget}; })()")
        assert details["block"] and details["parts"] > 0 and details["target"] == 0.2
        loaded = await page.evaluate("argus.hlsLoaded")
        if mode == "low-latency":
            assert loaded["parts"] > 0, loaded
        else:
            assert loaded["parts"] == 0 and loaded["segments"] > 0, loaded
        assert await page.evaluate("argus.video.currentTime") > 0
        stop = await page.request.post(
            f"{world.base_url}/v1/streams/stop", data={"session_id": body["session_id"]},
            headers={"Authorization": f"Bearer {world.token(world.viewer_id)}"})
        assert stop.status == 200 and await stop.json() == {"status": "stopped"}
