"""From a demuxed packet to an ``Item``: wall-clock time, keyframe parameters, jumps."""

from __future__ import annotations

import time
from typing import Any

import av
import structlog

from argus_recording.clock import MediaClock
from argus_recording.packets import Item
from argus_recording.params import ParamTracker

log = structlog.get_logger("argus.recording.stamping")

# A media timestamp running this far ahead of arrival time (or going back at all) is a
# discontinuity (camera restart, RTP clock jump): the segment ends there.
JUMP_S = 5.0


class Stamper:
    """Stamps the packets of one connection. ``jumped`` is set on the packet after which
    timestamps became discontinuous (the clock has been reset by then)."""

    def __init__(
        self, video: av.VideoStream, audio: av.AudioStream | None, max_drift_ms: float
    ) -> None:
        self.vindex = video.index
        self.vtb = float(video.time_base or 0) or 1 / 90000
        self.atb = float(audio.time_base or 0) if audio is not None else 0.0
        ctx = video.codec_context
        self.tracker = ParamTracker(ctx.name, ctx.extradata, ctx.width, ctx.height)
        self.clock = MediaClock(max_drift_ms)
        self.jumped = False
        self._last_dts_s: float | None = None
        self._last_mono = 0.0  # monotonic arrival: a step of the wall clock is no jump

    def stamp(self, packet: av.Packet[Any], recv_ms: float) -> Item | None:
        """The item of ``packet`` received at ``recv_ms``; None for audio that comes
        before any video (nothing to place it against)."""
        self.jumped = False
        dts = packet.dts
        pts = packet.pts if packet.pts is not None else dts
        assert dts is not None and pts is not None  # the source skips packets without
        if packet.stream_index != self.vindex:
            if not self.clock.anchored:
                return None
            return Item(packet, packet.stream_index, False, False, pts, dts, self.atb,
                        packet.size, self.clock.wall_ms(pts * self.atb), recv_ms,
                        self.tracker.current)
        vtb = self.vtb
        dts_s = dts * vtb
        last = self._last_dts_s
        mono = time.monotonic()
        if last is not None and (
            dts_s < last or dts_s - last > mono - self._last_mono + JUMP_S
        ):
            log.warning("timestamp_discontinuity", jump_s=round(dts_s - last, 3))
            self.clock.reset()
            self.jumped = True
        self._last_dts_s, self._last_mono = dts_s, mono
        wall = self.clock.observe(dts_s, recv_ms) + (pts - dts) * vtb * 1000.0
        key = packet.is_keyframe
        params = self.tracker.on_keyframe(packet) if key else self.tracker.current
        return Item(packet, packet.stream_index, True, key, pts, dts, vtb, packet.size, wall,
                    recv_ms, params)
