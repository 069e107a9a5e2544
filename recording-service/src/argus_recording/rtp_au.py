"""Interleaved RTP from the shared RTSP client → MP4-ready access units, at the least cost.

The recorder writes every byte it receives, so it takes RTP apart only as far as MP4
needs: H.264 payloads (RFC 6184: single NAL units, STAP-A, FU-A) become one
length-prefixed (AVCC) sample per access unit without an Annex B detour, and only the
NAL header of each unit is looked at (IDR, SPS, PPS). RTP headers without CSRCs, extension
or padding (what cameras send) take a short path. AAC (RFC 3640 AAC-hbr) and Opus
(RFC 7587) payloads become audio samples. A sequence gap drops the access unit in
progress (it cannot be decoded) and is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from argus_common.rtsp.depay import TimestampUnwrapper, starts_picture

_SPS, _PPS, _IDR, _STAP_A, _FU_A = 7, 8, 5, 24, 28


@dataclass(slots=True)
class VideoAU:
    """One H.264 access unit as an MP4 sample. ``ts`` counts 90 kHz ticks from the first
    unit of the connection (unwrapped); ``sps``/``pps`` are in-band parameter sets."""

    data: bytes
    ts: int
    key: bool
    recv_ms: float
    sps: bytes | None
    pps: bytes | None


@dataclass(slots=True)
class AudioAU:
    """One audio frame (raw AAC or one Opus packet); ``ts`` in the track's clock."""

    data: bytes
    ts: int
    recv_ms: float


def _payload_bounds(pkt: bytes) -> tuple[int, int] | None:
    """Start and end of an RTP packet's payload (CSRCs, extension and padding skipped)."""
    b0 = pkt[0]
    if b0 >> 6 != 2:
        return None
    start = 12 + 4 * (b0 & 0x0F)
    end = len(pkt)
    if b0 & 0x10:
        if end < start + 4:
            return None
        start += 4 + 4 * ((pkt[start + 2] << 8) | pkt[start + 3])
    if b0 & 0x20 and end > start:
        end -= pkt[-1]
    return (start, end) if start < end else None


class AuAssembler:
    """Per-connection RTP state. ``on_video``/``on_audio`` get each complete unit; call the
    instance with ``(channel, packet)`` for every interleaved frame."""

    def __init__(
        self, video_channel: int, audio_channel: int | None, audio_codec: str | None,
        on_video: Callable[[VideoAU], None], on_audio: Callable[[AudioAU], None],
    ) -> None:
        self.video_channel = video_channel
        self.audio_channel = audio_channel if audio_codec in ("aac", "opus") else None
        self.audio_codec = audio_codec
        self.on_video = on_video
        self.on_audio = on_audio
        self.lost = 0  # access units dropped for a sequence gap
        self._parts: list[bytes] = []
        self._fu_at = -1  # index in _parts of the length of the FU-A unit being joined
        self._fu_len = 0
        self._seq = -1
        self._ts = b""
        self._broken = False
        self._key = False
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._vts = TimestampUnwrapper()
        self._ats = TimestampUnwrapper()

    def __call__(self, channel: int, pkt: bytes) -> None:
        if channel != self.video_channel:
            if channel == self.audio_channel and len(pkt) > 12:
                self._audio(pkt)
            return
        if len(pkt) < 14:
            return
        if pkt[0] == 0x80:  # version 2, nothing optional: the payload starts at 12
            start, end = 12, len(pkt)
        else:
            bounds = _payload_bounds(pkt)
            if bounds is None or bounds[1] - bounds[0] < 2:
                return  # as on the short path: a payload holds at least its NAL/FU header
            start, end = bounds
        seq = (pkt[2] << 8) | pkt[3]
        gap = seq != self._seq and self._seq >= 0
        if gap:
            self._broken = True  # the unit in progress has a hole: it will be dropped
            self.lost += 1
        self._seq = (seq + 1) & 0xFFFF
        ts = pkt[4:8]
        if ts != self._ts:
            if self._parts:  # the previous unit had no marker: it ends here
                self._finish()
            self._ts = ts
            if gap:
                # The lost packets may also have been this unit's first ones: keep it only
                # if this packet can begin a picture.
                self._broken = not starts_picture(pkt[start:end])
        nh = pkt[start]
        kind = nh & 0x1F
        parts = self._parts
        if kind == _FU_A:
            fh = pkt[start + 1]
            if fh & 0x80:
                kind = fh & 0x1F
                if self._fu_at >= 0:
                    self._broken = True  # the previous unit never got its end piece
                self._fu_at = len(parts)
                self._fu_len = end - start - 1
                parts.append(b"")
                parts.append(bytes(((nh & 0xE0) | kind,)))
                parts.append(pkt[start + 2:end])
                if kind == _IDR:
                    self._key = True
            elif self._fu_at < 0:
                self._broken = True  # a middle piece whose start we never saw
            else:
                parts.append(pkt[start + 2:end])
                self._fu_len += end - start - 2
            if fh & 0x40 and self._fu_at >= 0:
                parts[self._fu_at] = self._fu_len.to_bytes(4, "big")
                if fh & 0x1F in (_SPS, _PPS):  # a parameter set larger than one packet
                    nal = b"".join(parts[self._fu_at + 1:])
                    self._sps, self._pps = (nal, self._pps) if fh & 0x1F == _SPS else (
                        self._sps, nal)
                self._fu_at = -1
        elif kind < 24 and kind:
            self._nal(pkt[start:end], kind)
        elif kind == _STAP_A:
            i = start + 1
            while i + 2 <= end:
                size = (pkt[i] << 8) | pkt[i + 1]
                i += 2
                if size == 0 or i + size > end:
                    self._broken = True
                    break
                self._nal(pkt[i:i + size], pkt[i] & 0x1F)
                i += size
        if pkt[1] & 0x80:
            self._finish()

    def _nal(self, nal: bytes, kind: int) -> None:
        self._parts.append(len(nal).to_bytes(4, "big"))
        self._parts.append(nal)
        if kind == _IDR:
            self._key = True
        elif kind == _SPS:
            self._sps = nal
        elif kind == _PPS:
            self._pps = nal

    def _finish(self) -> None:
        parts, broken = self._parts, self._broken or self._fu_at >= 0
        key, sps, pps = self._key, self._sps, self._pps
        self._parts, self._fu_at, self._broken = [], -1, False
        self._key, self._sps, self._pps = False, None, None
        if broken or not parts:
            return
        ts = self._vts(int.from_bytes(self._ts, "big"))
        self.on_video(VideoAU(b"".join(parts), ts, key, time.time() * 1000.0, sps, pps))

    def _audio(self, pkt: bytes) -> None:
        bounds = (12, len(pkt)) if pkt[0] == 0x80 else _payload_bounds(pkt)
        if bounds is None:
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
