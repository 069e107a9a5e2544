"""A WebRTC track playing recorded access units at a steady speed.

Units come from ``read_units`` in a worker thread, a small batch at a time (bounded
read-ahead). Pre-roll units, those between the keyframe and the requested instant, go out
at once with timestamps one tick apart: the browser decodes them immediately and the first
picture it shows is the requested instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from argus_common.rtsp.frames import VIDEO_CLOCK
from argus_streaming import metrics
from argus_streaming.playback.reader import PlaybackUnit

_TB = Fraction(1, VIDEO_CLOCK)
_BATCH = 8
_END = object()


def _take(it: Iterator[PlaybackUnit], n: int) -> list[PlaybackUnit]:
    out = []
    for unit in it:
        out.append(unit)
        if len(out) >= n:
            break
    return out


class PlaybackVideoTrack(MediaStreamTrack):
    """Recorded video, paced at ``speed`` times real time."""

    kind = "video"

    def __init__(self, units: Iterator[PlaybackUnit], speed: float = 1.0) -> None:
        super().__init__()
        self._units = units
        self.speed = speed
        self._queue: asyncio.Queue[PlaybackUnit | object] = asyncio.Queue(maxsize=4 * _BATCH)
        self._feeder: asyncio.Task[None] | None = None
        self._t0: float | None = None
        self._pts0 = 0
        self._out = -1
        self._base: int | None = None
        self.frames = 0
        self.error: str | None = None

    async def _feed(self) -> None:
        try:
            while True:
                batch = await asyncio.to_thread(_take, self._units, _BATCH)
                for unit in batch:
                    await self._queue.put(unit)
                if len(batch) < _BATCH:
                    break
        except Exception as exc:  # a broken file ends the playback, not the service
            self.error = str(exc)[:200]
        await self._queue.put(_END)

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._feeder is None:
            self._feeder = asyncio.create_task(self._feed(), name="playback-feed")
        item = await self._queue.get()
        if not isinstance(item, PlaybackUnit):
            self.stop()
            raise MediaStreamError
        if item.preroll:
            out = self._out + 1
        else:
            now = time.monotonic()
            if self._t0 is None:
                self._t0, self._pts0 = now, item.pts
            due = self._t0 + (item.pts - self._pts0) / VIDEO_CLOCK / self.speed
            if due > now:
                await asyncio.sleep(due - now)
            out = max(self._out + 1, self._out_base() + round((item.pts - self._pts0)
                                                              / self.speed))
        self._out = out
        packet = av.Packet(item.data)
        packet.pts = out
        packet.time_base = _TB
        self.frames += 1
        metrics.BYTES_SENT.labels("webrtc").inc(len(item.data))
        return packet

    def _out_base(self) -> int:
        # Paced output starts one frame interval after the pre-roll.
        if self._base is None:
            self._base = self._out + VIDEO_CLOCK // 30
        return self._base

    def stop(self) -> None:
        super().stop()
        if self._feeder is not None:
            self._feeder.cancel()
        with contextlib.suppress(Exception):
            close = getattr(self._units, "close", None)
            if close is not None and self._feeder is not None and self._feeder.done():
                close()
