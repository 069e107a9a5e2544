"""Turns interleaved RTP from an :class:`~argus_common.rtsp.client.RtspClient` into access
units: H.264 depacketization (:mod:`~argus_common.rtsp.depay`, Annex-B out), monotonic
timestamps, parameter sets before every IDR.

Interleaved RTCP (odd channels) and frames of channels that were not set up are ignored,
so a camera that sends sender reports between RTP packets never breaks an access unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from argus_common.h264 import (
    ParameterSetKeeper,
    parameter_sets_from_sprop,
    slice_type,
    split_annexb,
    to_annexb,
)
from argus_common.rtsp.depay import (
    H264Depacketizer,
    H264Unit,
    TimestampUnwrapper,
    rtp_payload_bounds,
)
from argus_common.rtsp.errors import RtspUnsupportedCodec
from argus_common.rtsp.frames import AccessUnit
from argus_common.rtsp.sdp import SdpTrack

_B_SLICES = (1, 6)  # slice_type values of B slices (7.4.3)


def fast_slice_type(head: bytes) -> int | None:
    """``slice_type`` of a slice NAL unit (or its first bytes), the same value as
    :func:`argus_common.h264.slice_type`; without its byte-by-byte reader when both
    Exp-Golomb codes lie in the first 8 payload bytes and no emulation prevention can be
    there (no two zero bytes), which is every slice a camera sends."""
    body = head[1:9]
    if len(body) == 8 and b"\0\0" not in body:
        v, n = int.from_bytes(body, "big"), 64
        size = 2 * (n - v.bit_length()) + 1  # first_mb_in_slice
        if size <= n:
            n -= size
            v &= (1 << n) - 1
            size = 2 * (n - v.bit_length()) + 1
            if size <= n:
                return (v >> (n - size)) - 1
    return slice_type(head)


class RtpDemux(H264Depacketizer):
    """Per-connection RTP state: the shared depacketizer (Annex-B out; call the instance
    with ``(channel, packet)``, video takes its path with no call in between), audio
    payloads, timestamps, parameter sets.

    ``emit`` gets every complete access unit; ``on_loss`` (optional) is called when a video
    access unit was lost (consumers must resync at the next keyframe); ``on_bframes``
    (optional) once if B slices are seen, and that access unit is not emitted. Without
    ``on_bframes`` no slice header is parsed at all (a recorder keeps B-frames). Raises
    :class:`RtspUnsupportedCodec` when ``video`` is not H.264.
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
        if video.codec != "h264":
            raise RtspUnsupportedCodec(f"video codec {video.codec!r} is not H.264",
                                       codec=video.codec)
        super().__init__(self._video, channel=video_channel, annexb=True,
                         on_other=self._audio if audio_channel is not None else None,
                         on_loss=on_loss, slice_heads=on_bframes is not None)
        sps, pps = parameter_sets_from_sprop(video.fmtp.get("sprop-parameter-sets", ""))
        self.keeper = ParameterSetKeeper(sps, pps)
        self.video_channel = video_channel
        self.audio_channel = audio_channel
        self.audio_clock = audio.clock if audio else 8000
        self._ats = TimestampUnwrapper()
        self._emit = emit
        self._on_bframes = on_bframes
        self._bframes_seen = on_bframes is None  # nobody asked: never look

    def _audio(self, channel: int, packet: bytes) -> None:
        if channel != self.audio_channel:
            return
        bounds = rtp_payload_bounds(packet)
        if bounds is None:
            return
        start, end = bounds
        self._emit(AccessUnit("audio", packet[start:end],
                              self._ats(int.from_bytes(packet[4:8], "big")), True,
                              time.time_ns() // 1_000_000, self.audio_clock))

    def _video(self, unit: H264Unit) -> None:
        if not self._bframes_seen and unit.slice_heads and any(
                fast_slice_type(h) in _B_SLICES for h in unit.slice_heads):
            self._bframes_seen = True
            if self._on_bframes is not None:
                self._on_bframes()
            return
        data, keeper = unit.data, self.keeper
        if unit.sps is not None:
            keeper.sps = unit.sps
        if unit.pps is not None:
            keeper.pps = unit.pps
        if (unit.key and (unit.sps is None or unit.pps is None)
                and keeper.sps is not None and keeper.pps is not None):
            # An IDR without its parameter sets (once a GOP, cameras that send them only
            # in the SDP): rebuilt with them in front.
            data = to_annexb(keeper.process(split_annexb(data)))
        self._emit(AccessUnit("video", data, unit.ts, unit.key, int(unit.recv_ms)))
