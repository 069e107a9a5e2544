"""The console's 16-tile live grid in headless Chromium: every tile over WebRTC (WHEP).

Starts the native stack of the console's end-to-end tests (tests/e2e/console_stack.py: nginx
serving the build, management, streaming-service, the camera simulator with 16 cameras, no
recorder), restores a 4x4 grid of the 16 cameras as the console's last view, logs in
through the page and measures:

- time from the login click to the first decoded frame, and to all 16 tiles playing;
- decoded frames per second of every tile over a steady window (and frames dropped);
- CPU over that window: Chromium (all its processes), streaming-service, the simulator,
  management, nginx; with the machine's load average.

    .venv/bin/python bench/frontend_grid.py [--cameras 16] [--sub 320x180] [--fps 15] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from console_stack import ConsoleStack, console_stack

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
]
TICK = os.sysconf("SC_CLK_TCK")

QUALITY_JS = """() => [...document.querySelectorAll('.tile video')].map((v) => ({
  camera: v.closest('.tile').dataset.cameraId, transport: v.closest('.tile').dataset.transport,
  stream: v.closest('.tile').dataset.stream, frames: v.getVideoPlaybackQuality().totalVideoFrames,
  dropped: v.getVideoPlaybackQuality().droppedVideoFrames, width: v.videoWidth }))"""


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _tree_cpu(root: int, skip_names: tuple[str, ...] = ()) -> float:
    """CPU seconds of ``root`` and its live descendants."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st:
                parents[int(entry.name)], cpu[int(entry.name)] = st
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        name = ""
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            pass
        if name not in skip_names:
            total += cpu.get(pid, 0.0)
        todo.extend(p for p, pp in parents.items() if pp == pid)
    return total


def _cpu_snapshot(stack: ConsoleStack) -> dict[str, float]:
    out = {p.name: _tree_cpu(p.pid) for p in stack.procs}
    out["chromium"] = _tree_cpu(os.getpid(), skip_names=("python", "python3", "node"))
    return out


def _login_to_frames(browser: Any, stack: ConsoleStack, last: dict[str, Any], tiles: int,
                     keep: bool) -> list[Any]:
    """Log in through the page; seconds to the first frame and to every tile playing."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=stack.url,
                                  ignore_https_errors=True)  # self-signed console certificate
    context.add_init_script(f"localStorage.setItem('argus.live.last', '{json.dumps(last)}')")
    page = context.new_page()
    page.goto("/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", stack.admin[1])
    t0 = time.monotonic()
    page.click("button[type=submit]")
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.tile video')].filter("
        "(v) => v.getVideoPlaybackQuality().totalVideoFrames > 0).length >= n",
        arg=1, timeout=60_000, polling=10)
    first = time.monotonic() - t0
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.tile video')].filter("
        "(v) => v.getVideoPlaybackQuality().totalVideoFrames > 0).length >= n",
        arg=tiles, timeout=120_000, polling=20)
    every = time.monotonic() - t0
    if not keep:
        context.close()
        return [first, every]
    return [first, every, page]


def run(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with console_stack(cameras=args.cameras, recording=False, resolution=args.main,
                       sub_resolution=args.sub, fps=args.fps) as stack:
        ids = [stack.cameras[f"cam{i}"] for i in range(1, args.cameras + 1)]
        grid = 16 if len(ids) > 9 else 9 if len(ids) > 4 else 4
        last = {"grid": grid, "cells": ids + [None] * (grid - len(ids)), "layoutId": None}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=CHROMIUM_ARGS)
            cold = _login_to_frames(browser, stack, last, len(ids), keep=False)
            # Again while the camera pulls still run (they linger 5 s after the last viewer):
            # what the console itself costs, without the cameras' start-up.
            warm = _login_to_frames(browser, stack, last, len(ids), keep=True)
            page = warm.pop()
            time.sleep(3)  # settle: replayed GOPs are decoded at once
            q0, c0, w0 = page.evaluate(QUALITY_JS), _cpu_snapshot(stack), time.monotonic()
            load0 = os.getloadavg()
            time.sleep(args.seconds)
            q1, c1, w1 = page.evaluate(QUALITY_JS), _cpu_snapshot(stack), time.monotonic()
            load1 = os.getloadavg()
            browser.close()
        window = w1 - w0
        fps = [(b["frames"] - a["frames"]) / window for a, b in zip(q0, q1, strict=True)]
        dropped = sum(b["dropped"] - a["dropped"] for a, b in zip(q0, q1, strict=True))
        transports = {t["transport"] for t in q1}
        print(f"frontend_grid: {len(ids)} tiles ({grid}-grid), camera main {args.main}, "
              f"sub {args.sub} at {args.fps} fps, window {window:.1f} s")
        print(f"  tiles playing           {sum(1 for f in fps if f > 0)}/{len(ids)} "
              f"(transport {', '.join(sorted(transports))}, stream {q1[0]['stream']}, "
              f"{q1[0]['width']} px wide)")
        print(f"  login -> first frame    {cold[0] * 1000:.0f} ms cold (camera pulls start), "
              f"{warm[0] * 1000:.0f} ms warm")
        print(f"  login -> all playing    {cold[1] * 1000:.0f} ms cold, "
              f"{warm[1] * 1000:.0f} ms warm")
        print(f"  fps per tile            min {min(fps):.1f} / median {statistics.median(fps):.1f}"
              f" / max {max(fps):.1f}  (frames dropped by the browser: {dropped})")
        print("  CPU over the window (% of one core):")
        for name in ("chromium", "streaming", "camera-simulator", "management", "nginx"):
            if name in c0:
                print(f"    {name:<20} {100 * (c1[name] - c0[name]) / window:6.1f}")
        print(f"  load average            {load0[0]:.2f} -> {load1[0]:.2f} "
              f"({os.cpu_count()} CPUs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--main", default="640x360", help="main stream size")
    ap.add_argument("--sub", default="320x180", help="sub-stream size (small tiles use it)")
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=20)
    run(ap.parse_args())


if __name__ == "__main__":
    main()
