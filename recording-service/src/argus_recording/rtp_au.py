"""Interleaved RTP from the shared RTSP client → MP4-ready access units, at the least cost.

Video is the shared H.264 depacketizer (``argus_common.rtsp.depay``) in AVCC mode: one
length-prefixed MP4 sample per access unit, without an Annex B detour, with its keyframe
flag and in-band SPS/PPS; a sequence gap drops the unit in progress and is counted. What
the recorder adds here is audio: AAC (RFC 3640 AAC-hbr) and Opus (RFC 7587) payloads
become audio samples (the live path passes camera audio on as RTP payloads instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from argus_common.rtsp.depay import (
    H264Depacketizer,
    H264Unit,
    TimestampUnwrapper,
    rtp_payload_bounds,
)
from argus_recording.sender_reports import SenderReports

# One H.264 access unit as an MP4 sample: ``data`` (AVCC), ``ts`` (90 kHz ticks from the
# first unit of the connection, unwrapped), ``key``, ``recv_ms``, in-band ``sps``/``pps``.
VideoAU = H264Unit


@dataclass(slots=True)
class AudioAU:
    """One audio frame (raw AAC or one Opus packet); ``ts`` in the track's clock."""

    data: bytes
    ts: int
    recv_ms: float


class AuAssembler(H264Depacketizer):
    """Per-connection RTP state. ``on_video``/``on_audio`` get each complete unit; call the
    instance with ``(channel, packet)`` for every interleaved frame (video packets take
    the depacketizer's path with no call in between; the rest come to ``_other``)."""

    def __init__(
        self, video_channel: int, audio_channel: int | None, audio_codec: str | None,
        on_video: Callable[[VideoAU], None], on_audio: Callable[[AudioAU], None],
        video_reports: SenderReports | None = None, audio_reports: SenderReports | None = None,
    ) -> None:
        self.audio_channel = audio_channel if audio_codec in ("aac", "opus") else None
        wanted = self.audio_channel is not None or video_reports is not None
        super().__init__(on_video, channel=video_channel,
                         on_other=self._other if wanted else None)
        self.video_channel = video_channel
        self.audio_codec = audio_codec
        self.on_audio = on_audio
        self._ats = TimestampUnwrapper()
        # RTCP comes on the channel after each track's RTP (RFC 2326 10.12): the sender
        # reports of each track, for capture times (sender_reports.py).
        self._reports: dict[int, SenderReports] = {}
        if video_reports is not None:
            video_reports.unwrap = self._unwrap
            self._reports[video_channel + 1] = video_reports
        if audio_reports is not None and self.audio_channel is not None:
            audio_reports.unwrap = self._ats
            self._reports[self.audio_channel + 1] = audio_reports

    def _other(self, channel: int, pkt: bytes) -> None:
        if channel != self.audio_channel:
            reports = self._reports.get(channel)
            if reports is not None:
                reports.feed(pkt)
            return
        bounds = rtp_payload_bounds(pkt)
        if bounds is None or bounds[0] == bounds[1]:
            return
        start, end = bounds
        ts = self._ats(int.from_bytes(pkt[4:8], "big"))
        now = time.time() * 1000.0
        if self.audio_codec == "opus":
            self.on_audio(AudioAU(pkt[start:end], ts, now))
            return
        # AAC-hbr: a 16-bit AU-headers-length (in bits), then 16-bit headers (13 bits of
        # size, 3 of index), then the AUs back to back, 1024 samples apart.
        if end - start < 4:
            return
        headers = ((pkt[start] << 8) | pkt[start + 1]) // 16
        data = start + 2 + 2 * headers
        for n in range(headers):
            h = start + 2 + 2 * n
            size = ((pkt[h] << 8) | pkt[h + 1]) >> 3
            if size == 0 or data + size > end:
                return  # a fragmented AU (larger than one packet): not used by cameras
            self.on_audio(AudioAU(pkt[data:data + size], ts + 1024 * n, now))
            data += size
