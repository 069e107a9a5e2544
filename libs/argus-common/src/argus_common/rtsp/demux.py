"""Turns interleaved RTP from an :class:`~argus_common.rtsp.client.RtspClient` into access
units: H.264 depacketization, monotonic timestamps, parameter sets before every IDR.

Interleaved RTCP (odd channels) and frames of channels that were not set up are ignored,
so a camera that sends sender reports between RTP packets never breaks an access unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from argus_common.h264 import (
    ParameterSetKeeper,
    has_b_slice,
    is_keyframe,
    parameter_sets_from_sprop,
    to_annexb,
)
from argus_common.rtsp.depay import H264Depacketizer, TimestampUnwrapper
from argus_common.rtsp.frames import AccessUnit
from argus_common.rtsp.sdp import SdpTrack


class RtpDemux:
    """Per-connection RTP state: depacketizer, timestamps, parameter sets.

    ``emit`` gets every complete access unit; ``on_loss`` (optional) is called when a video
    access unit was lost (consumers must resync at the next keyframe); ``on_bframes``
    (optional) once if B slices are seen, and that access unit is not emitted. Without
    ``on_bframes`` no slice header is parsed at all (a recorder keeps B-frames).
    """

    def __init__(
        self,
        video: SdpTrack,
        video_channel: int,
        audio: SdpTrack | None,
        audio_channel: int | None,
        emit: Callable[[AccessUnit], None],
        on_loss: Callable[[], None] | None = None,
        on_bframes: Callable[[], None] | None = None,
    ) -> None:
        sps, pps = parameter_sets_from_sprop(video.fmtp.get("sprop-parameter-sets", ""))
        self.keeper = ParameterSetKeeper(sps, pps)
        self.video_channel = video_channel
        self.audio_channel = audio_channel
        self.audio_clock = audio.clock if audio else 8000
        self._depay = H264Depacketizer()
        self._vts = TimestampUnwrapper()
        self._ats = TimestampUnwrapper()
        self._emit = emit
        self._on_loss = on_loss
        self._on_bframes = on_bframes
        self._bframes_seen = on_bframes is None  # nobody asked: never look
        self.packets = 0

    @property
    def lost(self) -> int:
        """Video access units dropped because of a sequence gap."""
        return self._depay.lost

    def __call__(self, channel: int, packet: bytes) -> None:
        """Handle one interleaved frame (RTP on even channels, RTCP on odd ones)."""
        if len(packet) < 12 or (packet[0] >> 6) != 2:
            return
        if channel != self.video_channel and channel != self.audio_channel:
            return
        self.packets += 1
        b0 = packet[0]
        marker = bool(packet[1] & 0x80)
        seq = (packet[2] << 8) | packet[3]
        ts = int.from_bytes(packet[4:8], "big")
        start = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if len(packet) < start + 4:
                return
            start += 4 + 4 * ((packet[start + 2] << 8) | packet[start + 3])
        end = len(packet)
        if b0 & 0x20 and end > start:  # padding
            end -= packet[-1]
        if start > end:
            return
        payload = packet[start:end]
        now_ms = time.time_ns() // 1_000_000
        if channel == self.audio_channel:
            self._emit(AccessUnit("audio", payload, self._ats(ts), True, now_ms,
                                  self.audio_clock))
            return
        lost_before = self._depay.lost
        nals = self._depay.push(seq, ts, marker, payload)
        if self._depay.lost != lost_before and self._on_loss is not None:
            self._on_loss()
        if nals is None:
            return
        if not self._bframes_seen and has_b_slice(nals):
            self._bframes_seen = True
            if self._on_bframes is not None:
                self._on_bframes()
            return
        nals = self.keeper.process(nals)
        self._emit(AccessUnit("video", to_annexb(nals), self._vts(ts), is_keyframe(nals),
                              now_ms))
