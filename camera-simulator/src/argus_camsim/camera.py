"""Runtime of one virtual camera: its shared ``CameraInfo``, streams, scene and faults.

Fault switches live in ``CameraInfo.faults`` (shared with the ONVIF side); the methods
here also act on live connections (drop, offline) and wake requests held by a stall.
"""

from __future__ import annotations

import asyncio
import logging
import time
from fractions import Fraction
from typing import Any, Protocol

import av

from argus_camsim.config import parse_size
from argus_camsim.hub import StreamHub
from argus_camsim.model import CameraInfo
from argus_camsim.rtp import now_ms
from argus_camsim.scene import Scene

log = logging.getLogger(__name__)


class Droppable(Protocol):
    """A connection that can be cut (an RTSP connection)."""

    def abort(self) -> None:
        """Close the connection at once (TCP reset)."""


def encode_jpeg(buf: Any, width: int, height: int) -> bytes:
    """JPEG of a packed yuv420p buffer (shape height*3/2 x width)."""
    frame = av.VideoFrame.from_ndarray(buf, format="yuv420p").reformat(format="yuvj420p")
    ctx = av.CodecContext.create("mjpeg", "w")
    assert isinstance(ctx, av.video.codeccontext.VideoCodecContext)
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuvj420p"
    ctx.time_base = Fraction(1, 25)
    ctx.qmin, ctx.qmax = 2, 4  # good quality; snapshots are rare
    ctx.open()
    return b"".join(bytes(p) for p in [*ctx.encode(frame), *ctx.encode(None)])


class CameraRuntime:
    """Everything the simulator holds for one camera."""

    def __init__(self, info: CameraInfo, scene: Scene, hubs: dict[str, StreamHub]) -> None:
        self.info = info
        self.scene = scene
        self.hubs = hubs
        self.connections: set[Droppable] = set()
        self._unstalled = asyncio.Event()
        self._unstalled.set()

    @property
    def path(self) -> str:
        """``camN``."""
        return self.info.path

    def drop_connections(self) -> int:
        """Cut every RTSP connection to this camera; returns how many were cut."""
        self.info.faults.drop_generation += 1
        victims = list(self.connections)
        for conn in victims:
            conn.abort()
        self.connections.clear()
        log.info("%s: dropped %d RTSP connections", self.path, len(victims))
        return len(victims)

    def set_stall(self, on: bool) -> None:
        """Stall (sockets stay open, nothing is sent) or resume."""
        self.info.faults.stall = on
        if on:
            self._unstalled.clear()
        else:
            self._unstalled.set()
        log.info("%s: stall %s", self.path, "on" if on else "off")

    async def wait_unstalled(self) -> None:
        """Return once the camera is not stalled (requests are held meanwhile)."""
        while self.info.faults.stall:
            self._unstalled.clear()
            await self._unstalled.wait()

    def go_offline(self, seconds: float) -> None:
        """Refuse RTSP (and ONVIF) for ``seconds``; current connections are cut."""
        self.info.faults.offline_until = time.monotonic() + max(0.0, seconds)
        if seconds > 0:
            self.drop_connections()
        log.info("%s: offline for %.1f s", self.path, seconds)

    def set_corrupt(self, on: bool) -> None:
        """Send corrupt slice data (or stop doing so)."""
        self.info.faults.corrupt = on
        log.info("%s: corrupt %s", self.path, "on" if on else "off")

    def set_resolution(self, variant: str, size: str) -> tuple[int, int]:
        """Change a stream's resolution mid-stream (the encoder restarts: new SPS/PPS)."""
        width, height = parse_size(size)
        if variant == "main":
            self.info.width, self.info.height = width, height
        else:
            self.info.sub_width, self.info.sub_height = width, height
        log.info("%s: %s resolution -> %dx%d", self.path, variant, width, height)
        return width, height

    def set_motion(self, on: bool) -> None:
        """Turn the moving objects on or off."""
        self.info.motion = on
        log.info("%s: motion %s", self.path, "on" if on else "off")

    async def snapshot(self) -> bytes:
        """JPEG of the current main picture (rendered and encoded off the event loop)."""

        def render() -> bytes:
            width, height = self.info.width, self.info.height
            return encode_jpeg(self.scene.render(width, height, now_ms()), width, height)

        return await asyncio.to_thread(render)

    def close(self) -> None:
        """Stop the streams' sources."""
        for hub in self.hubs.values():
            hub.close()
