"""RTP framing shared by every client of a stream.

An encoded access unit becomes one :class:`MediaFrame`: its RTP payloads plus the header
fields. The bytes sent to clients (interleaved TCP or UDP datagrams) are built lazily and
cached, so a frame going to many clients on the same channel is framed only once.
"""

from __future__ import annotations

import os
import struct
import time

VIDEO_PT = 96
VIDEO_CLOCK = 90_000

# '$', channel, length, then the 12-byte RTP header: V=2, M|PT, seq, timestamp, SSRC.
_TCP_RTP = struct.Struct("!BBHBBHII")
_RTP = struct.Struct("!BBHII")
_SR = struct.Struct("!BBHIIIIII")
_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def random_ssrc() -> int:
    """A random 32-bit synchronization source identifier."""
    return int.from_bytes(os.urandom(4), "big")


class MediaFrame:
    """One access unit (video) or one audio frame ready to send.

    ``track`` is 0 for video and 1 for audio. The RTP marker bit goes on the last packet
    (H.264); ``marker_all`` puts it on every packet (AAC, one frame per packet) and
    ``marker_last=False`` on none (G.711 and Opus without silence suppression).
    """

    __slots__ = (
        "_tcp",
        "_tcp_channel",
        "keyframe",
        "marker_all",
        "marker_last",
        "nbytes",
        "payloads",
        "pt",
        "rtp_ts",
        "seq0",
        "ssrc",
        "track",
        "wall_ms",
    )

    def __init__(
        self,
        track: int,
        payloads: list[bytes],
        rtp_ts: int,
        seq0: int,
        ssrc: int,
        pt: int,
        keyframe: bool,
        wall_ms: int,
        marker_all: bool = False,
        marker_last: bool = True,
    ) -> None:
        self.track = track
        self.payloads = payloads
        self.rtp_ts = rtp_ts & 0xFFFFFFFF
        self.seq0 = seq0
        self.ssrc = ssrc
        self.pt = pt
        self.keyframe = keyframe
        self.wall_ms = wall_ms
        self.marker_all = marker_all
        self.marker_last = marker_last
        self.nbytes = sum(len(p) for p in payloads)
        self._tcp: bytes | None = None
        self._tcp_channel = -1

    def tcp(self, channel: int) -> bytes:
        """All packets of the frame framed for RTSP interleaved transport (RFC 2326 10.12)."""
        if self._tcp is not None and self._tcp_channel == channel:
            return self._tcp
        parts: list[bytes] = []
        pack = _TCP_RTP.pack
        last = len(self.payloads) - 1 if self.marker_last else -1
        seq, ts, ssrc, pt = self.seq0, self.rtp_ts, self.ssrc, self.pt
        for i, payload in enumerate(self.payloads):
            mpt = pt | 0x80 if (self.marker_all or i == last) else pt
            parts.append(
                pack(0x24, channel, len(payload) + 12, 0x80, mpt, (seq + i) & 0xFFFF, ts, ssrc)
            )
            parts.append(payload)
        data = b"".join(parts)
        # Most clients of a stream use the same channel; cache the last one built.
        self._tcp, self._tcp_channel = data, channel
        return data

    def datagrams(self) -> list[bytes]:
        """All packets of the frame as RTP datagrams (UDP transport)."""
        out: list[bytes] = []
        last = len(self.payloads) - 1 if self.marker_last else -1
        for i, payload in enumerate(self.payloads):
            mpt = self.pt | 0x80 if (self.marker_all or i == last) else self.pt
            header = _RTP.pack(0x80, mpt, (self.seq0 + i) & 0xFFFF, self.rtp_ts, self.ssrc)
            out.append(header + payload)
        return out

    @property
    def packet_count(self) -> int:
        """Number of RTP packets in this frame."""
        return len(self.payloads)


def sender_report(ssrc: int, wall_ms: int, rtp_ts: int, packets: int, octets: int) -> bytes:
    """An RTCP sender report (RFC 3550 6.4.1) without report blocks.

    It maps ``rtp_ts`` to the wall-clock time ``wall_ms`` so clients can recover the
    capture time of every frame.
    """
    seconds, millis = divmod(wall_ms, 1000)
    ntp_sec = (seconds + _NTP_EPOCH_OFFSET) & 0xFFFFFFFF
    ntp_frac = (millis << 32) // 1000
    return _SR.pack(
        0x80,
        200,
        6,
        ssrc,
        ntp_sec,
        ntp_frac,
        rtp_ts & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )


def aac_payload(frame: bytes) -> bytes:
    """RFC 3640 AAC-hbr payload holding one raw AAC frame.

    AU-headers-length is 16 bits (one header), the header is 13 bits of size and 3 bits
    of index (0).
    """
    return struct.pack("!HH", 16, (len(frame) << 3) & 0xFFFF) + frame


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000
