"""Loop source: replays a pre-encoded clip with rewritten RTP timestamps.

Made for load tests of 100+ streams: no encoding, no parsing per frame. All looped
streams of one frame rate are driven by a single timer task (one wake-up per frame
period, not one per stream), and each stream starts at a different offset in the clip so
the keyframes of a hundred cameras do not all go out in the same tick.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from argus_camsim.clip import LoopClip, get_clip
from argus_camsim.config import EncodeSettings
from argus_camsim.hub import StreamHub
from argus_camsim.rtp import VIDEO_CLOCK, now_ms

log = logging.getLogger(__name__)


class LoopScheduler:
    """One timer task ticking every looped stream of one frame rate."""

    def __init__(self, fps: int) -> None:
        self.fps = fps
        self.streams: list[LoopStream] = []
        self._task: asyncio.Task[None] | None = None
        self._n = 0  # frame counter; survives restarts so RTP time never goes back

    def ensure_running(self) -> None:
        """Start the timer task if it is not running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.fps
        t0 = loop.time() - self._n * period
        while True:
            self._n += 1
            delay = t0 + self._n * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                # More than a second late (machine overloaded): drop the backlog.
                t0 = loop.time() - self._n * period
            active = [s for s in self.streams if s.active]
            if not active:
                return
            wall = now_ms()
            for stream in active:
                stream.tick(self._n, wall)

    def close(self) -> None:
        """Cancel the timer task."""
        if self._task is not None:
            self._task.cancel()


class LoopStream:
    """The loop source of one hub (implements the hub's ``Source`` protocol)."""

    def __init__(
        self,
        hub: StreamHub,
        clip: LoopClip,
        scheduler: LoopScheduler,
        settings: EncodeSettings,
        cache_dir: Path,
        seconds: float,
    ) -> None:
        self.hub = hub
        self.clip = clip
        self.scheduler = scheduler
        self.settings = settings
        self.cache_dir = cache_dir
        self.seconds = seconds
        self.active = False
        # Spread keyframes of many cameras over the clip.
        self.offset = (hub.camera.index * 7 + (3 if hub.variant == "sub" else 0)) % len(clip.frames)
        self._start_n = 0
        self._ts_base = int.from_bytes(os.urandom(4), "big")
        self._ts_step = VIDEO_CLOCK // scheduler.fps
        self._pending: LoopClip | None = None
        self._loading: asyncio.Task[None] | None = None
        hub.params = clip.params
        hub.width, hub.height = clip.width, clip.height
        scheduler.streams.append(self)

    @property
    def running(self) -> bool:
        """Whether the stream is being ticked."""
        return self.active

    def start(self) -> None:
        """Start sending frames to the hub."""
        self.active = True
        self.scheduler.ensure_running()

    def stop(self) -> None:
        """Stop sending frames."""
        self.active = False

    def _wanted_size(self) -> tuple[int, int]:
        cam = self.hub.camera
        if self.hub.variant == "main":
            return cam.width, cam.height
        return cam.sub_width, cam.sub_height

    def tick(self, n: int, wall_ms: int) -> None:
        """Send the clip frame due at scheduler tick ``n``."""
        if self._pending is not None:
            # Switch clips at the new clip's first (key) frame.
            self.clip, self._pending = self._pending, None
            self._start_n = n
            self.offset = 0
        clip = self.clip
        want = self._wanted_size()
        if want != (clip.width, clip.height) and self._loading is None:
            self._loading = asyncio.get_running_loop().create_task(self._load(want))
        payloads, keyframe = clip.frames[(n - self._start_n + self.offset) % len(clip.frames)]
        self.hub.on_video(
            payloads,
            (self._ts_base + n * self._ts_step) & 0xFFFFFFFF,
            keyframe,
            wall_ms,
            clip.params if keyframe else None,
            (clip.width, clip.height),
        )

    async def _load(self, size: tuple[int, int]) -> None:
        # A resolution change needs a clip of that size: generate it off the loop.
        try:
            self._pending = await asyncio.to_thread(
                get_clip, None, self.cache_dir, size[0], size[1], self.settings, self.seconds
            )
        except Exception:
            log.exception("cannot make a %dx%d loop clip", *size)
            await asyncio.sleep(5)  # do not retry in a tight loop
        finally:
            self._loading = None
