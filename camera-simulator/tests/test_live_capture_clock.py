"""The live encoder's capture clock: frame n is stamped wall0 + n / fps however late a
loaded machine renders it, so the picture's stamp, the RTP timestamp and the sender
reports (which map one frame's RTP timestamp to its stamp) agree for every frame."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import numpy as np

from argus_camsim.config import EncodeSettings
from argus_camsim.live import LiveEncoder
from argus_camsim.rtp import VIDEO_CLOCK

FPS = 15
FRAMES = 30


class LaggingScene:
    """Renders a flat picture; every third frame takes 50 ms (a starved CPU)."""

    def __init__(self) -> None:
        self.calls = 0
        self.late_ms: list[float] = []

    def render(self, width: int, height: int, wall_ms: int) -> np.ndarray:
        self.calls += 1
        if self.calls % 3 == 0:
            time.sleep(0.05)
        self.late_ms.append(time.time() * 1000 - wall_ms)
        return np.full((height * 3 // 2, width), 128, dtype=np.uint8)


class Hub:
    def __init__(self) -> None:
        self.camera = SimpleNamespace(width=64, height=48, sub_width=64, sub_height=48,
                                      path="cam1")
        self.variant = "main"
        self.frames: list[tuple[int, int]] = []  # (rtp_ts, wall_ms)

    def on_video(self, payloads: Any, rtp_ts: int, keyframe: bool, wall_ms: int,
                 params: Any, size: Any) -> None:
        self.frames.append((rtp_ts, wall_ms))


async def test_stamps_follow_the_capture_clock_not_the_render_lag() -> None:
    hub, scene = Hub(), LaggingScene()
    encoder = LiveEncoder(hub, scene, EncodeSettings(fps=FPS, gop_s=1.0),  # type: ignore[arg-type]
                          asyncio.get_running_loop())
    encoder.start()
    try:
        for _ in range(200):
            if len(hub.frames) >= FRAMES:
                break
            await asyncio.sleep(0.05)
    finally:
        encoder.stop()
        encoder.join()
    assert len(hub.frames) >= FRAMES, len(hub.frames)
    assert max(scene.late_ms) >= 40  # the lag happened
    ts0, wall0 = hub.frames[0]
    for rtp_ts, wall_ms in hub.frames[:FRAMES]:
        ticks = (rtp_ts - ts0) & 0xFFFFFFFF
        # The stamp is exactly the RTP time (to the millisecond the stamp is rounded to).
        assert abs((wall_ms - wall0) - ticks * 1000 / VIDEO_CLOCK) <= 1, (rtp_ts, wall_ms)
