"""Headless Debian Chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright

PAGES = Path(__file__).parent / "pages"
HLS_JS = Path(__file__).parents[1] / "src" / "argus_streaming" / "static" / "hls.min.js"
CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # WebRTC between two processes of this machine: candidates on loopback are needed.
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


@contextlib.asynccontextmanager
async def chromium(*, mdns: bool = True) -> AsyncIterator[BrowserContext]:
    """A fresh Chromium profile. ``mdns=True`` keeps Chrome's default of hiding host
    addresses behind ``.local`` names, as a real browser does."""
    args = list(BASE_ARGS)
    if not mdns:
        args.append("--disable-features=WebRtcHideLocalIpsWithMdns")
    with tempfile.TemporaryDirectory(prefix="argus-chromium-") as profile:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=args,
            )
            try:
                yield context
            finally:
                await context.close()


async def open_player(context: BrowserContext, base_url: str, *, hls: bool = False) -> Page:
    """A page on the service's origin with the test player (and hls.js) loaded."""
    page = await context.new_page()
    await page.goto(f"{base_url}/healthz")
    await page.set_content("<!doctype html><html><body></body></html>")
    if hls:
        await page.add_script_tag(path=str(HLS_JS))
    await page.add_script_tag(path=str(PAGES / "player.js"))
    return page


async def poll(page: Page, expr: str, ok: Callable[[Any], bool], timeout_s: float) -> Any:
    """Evaluate ``expr`` in the page until ``ok`` holds or ``timeout_s`` passes; returns
    the last value (bounded: one evaluation every 0.1 s)."""
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = await page.evaluate(expr)
        if ok(value):
            return value
        await asyncio.sleep(0.1)
    return value


async def start_live_hls(page: Page, base_url: str, camera_id: int, token: str) -> Any:
    """``POST /v1/streams/start`` from the page; returns the session (asserts 200)."""
    resp = await page.request.post(f"{base_url}/v1/streams/start",
                                   data={"camera_id": camera_id},
                                   headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    return await resp.json()


async def assert_hls_plays(page: Page, min_frames: int, size: tuple[int, int]) -> None:
    """The page's video shows more than ``min_frames`` frames of ``size`` (within 20 s)."""
    frames = await poll(page, "argus.video.getVideoPlaybackQuality().totalVideoFrames",
                        lambda n: bool(n and n > min_frames), 20)
    error = await page.evaluate("argus.hlsError || null")
    assert frames and frames > min_frames, error
    shown = await page.evaluate("[argus.video.videoWidth, argus.video.videoHeight]")
    assert shown == list(size)
