"""Turns interleaved RTP from an RTSP client into access units for a source."""

from __future__ import annotations

import time
from collections.abc import Callable

from argus_streaming.media.frames import AccessUnit
from argus_streaming.media.h264 import (
    ParameterSetKeeper,
    has_b_slice,
    is_keyframe,
    parameter_sets_from_sprop,
    to_annexb,
)
from argus_streaming.rtsp.depay import H264Depacketizer, TimestampUnwrapper
from argus_streaming.rtsp.sdp import SdpTrack

# Audio codecs a browser can take as they are (RFC 7587, RFC 3551).
PASSTHROUGH_AUDIO = frozenset({"opus", "pcma", "pcmu"})


def audio_passthrough(track: SdpTrack) -> bool:
    """Whether an audio track can go to browsers without transcoding."""
    return track.codec in PASSTHROUGH_AUDIO


class RtpDemux:
    """Per-connection RTP state: depacketizer, timestamps, parameter sets.

    ``emit`` gets every complete access unit; ``on_loss`` is called when a video access unit
    was lost (viewers must resync); ``on_bframes`` once if B slices are seen.
    """

    def __init__(
        self,
        video: SdpTrack,
        video_channel: int,
        audio: SdpTrack | None,
        audio_channel: int | None,
        emit: Callable[[AccessUnit], None],
        on_loss: Callable[[], None],
        on_bframes: Callable[[], None],
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
        self._bframes_seen = False
        self.packets = 0

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
        if self._depay.lost != lost_before:
            self._on_loss()
        if nals is None:
            return
        if not self._bframes_seen and has_b_slice(nals):
            self._bframes_seen = True
            self._on_bframes()
            return
        nals = self.keeper.process(nals)
        self._emit(AccessUnit("video", to_annexb(nals), self._vts(ts), is_keyframe(nals),
                              now_ms))
