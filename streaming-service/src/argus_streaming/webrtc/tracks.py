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

from argus_common.rtsp.frames import VIDEO_CLOCK, AccessUnit
from argus_streaming import metrics
from argus_streaming.live.queue import ViewerQueue

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

    async def next_unit(self) -> tuple[AccessUnit, int]:
        """The next access unit and its RTP timestamp (90 kHz ticks from the first one).

        Live viewers are sent by ``webrtc/sender.py``, which takes units rather than
        ``av.Packet``s so that their RTP payloads are made once for every viewer.
        """
        if self.readyState != "live":
            raise MediaStreamError
        try:
            unit, replayed = await self.queue.get()
        except Exception:  # QueueClosed or the source's error
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
        self.frames += 1
        metrics.BYTES_SENT.labels("webrtc").inc(len(unit.data))
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
            if self._on_first is not None:
                self._on_first()
        return unit, out

    async def recv(self) -> av.Packet[Any]:
        """The next unit as an ``av.Packet`` (for aiortc's own sender)."""
        unit, out = await self.next_unit()
        packet = av.Packet(unit.data)
        packet.pts = out
        packet.time_base = _VIDEO_TB
        return packet


class RelayAudioTrack(MediaStreamTrack):
    """Audio of one viewer (Opus/PCMA/PCMU passed through).

    Timestamps follow the camera's, from 0. A source that reconnected counts from 0 again
    and one that stalled jumps ahead: such a step (not within 0..1 s) is replaced by the
    last regular one, so the RTP clock never runs backwards.
    """

    kind = "audio"

    def __init__(self, queue: ViewerQueue, clock: int) -> None:
        super().__init__()
        self.queue = queue
        self._tb = Fraction(1, clock)
        self._clock = clock
        self._last_in: int | None = None
        self._out = 0
        self._step = clock // 50  # 20 ms until a regular step is seen

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        try:
            unit, _ = await self.queue.get()
        except Exception:
            self.stop()
            raise MediaStreamError from None
        if self._last_in is not None:
            step = unit.pts - self._last_in
            if 0 < step <= self._clock:
                self._step = step
            self._out += self._step
        self._last_in = unit.pts
        packet = av.Packet(unit.data)
        packet.pts = self._out
        packet.time_base = self._tb
        metrics.BYTES_SENT.labels("webrtc").inc(len(unit.data))
        return packet
