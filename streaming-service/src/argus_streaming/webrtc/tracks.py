"""aiortc tracks that hand pre-encoded packets to the sender (no decode, no encode).

aiortc's ``RTCRtpSender`` checks what ``recv()`` returns: an ``av.Packet`` is packetized
as it is by the codec's ``pack()`` (H.264: Annex-B split, STAP-A/FU-A), a frame would be
encoded. So these tracks return packets built from the source's Annex-B access units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from argus_streaming import metrics
from argus_streaming.live.queue import QueueClosed, ViewerQueue
from argus_streaming.media.frames import VIDEO_CLOCK

_VIDEO_TB = Fraction(1, VIDEO_CLOCK)


class RelayVideoTrack(MediaStreamTrack):
    """Video of one viewer, read from its queue.

    A replayed GOP is sent with timestamps one tick apart: the browser decodes it at once
    and shows its last frame, then live frames follow at their real spacing. Sent with its
    original timestamps it would play out over up to a GOP and leave the viewer that far
    behind live.
    """

    kind = "video"

    def __init__(self, queue: ViewerQueue, on_first: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.queue = queue
        self._on_first = on_first
        self._offset: int | None = None
        self._last_out: int | None = None
        self._last_in = 0
        self.frames = 0
        self.first_frame_at: float | None = None

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        try:
            unit, replayed = await self.queue.get()
        except QueueClosed:
            self.stop()
            raise MediaStreamError from None
        except Exception:
            self.stop()
            raise MediaStreamError from None
        if replayed:
            out = 0 if self._last_out is None else self._last_out + 1
        else:
            if self._offset is None:
                self._offset = (-unit.pts if self._last_out is None
                                else self._last_out - self._last_in)
            out = unit.pts + self._offset
            if self._last_out is not None and out <= self._last_out:
                out = self._last_out + 1
        self._last_in, self._last_out = unit.pts, out
        packet = av.Packet(unit.data)
        packet.pts = out
        packet.time_base = _VIDEO_TB
        self.frames += 1
        metrics.BYTES_SENT.labels("webrtc").inc(len(unit.data))
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
            if self._on_first is not None:
                self._on_first()
        return packet


class RelayAudioTrack(MediaStreamTrack):
    """Audio of one viewer (Opus/PCMA/PCMU passed through)."""

    kind = "audio"

    def __init__(self, queue: ViewerQueue, clock: int) -> None:
        super().__init__()
        self.queue = queue
        self._tb = Fraction(1, clock)
        self._first: int | None = None

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        try:
            unit, _ = await self.queue.get()
        except Exception:
            self.stop()
            raise MediaStreamError from None
        if self._first is None:
            self._first = unit.pts
        packet = av.Packet(unit.data)
        packet.pts = unit.pts - self._first
        packet.time_base = self._tb
        metrics.BYTES_SENT.labels("webrtc").inc(len(unit.data))
        return packet
