"""H.264 RTP depacketization (RFC 6184: single NAL units, STAP-A, FU-A) into access units:
the one implementation behind the live path (Annex-B) and the recorder (MP4 samples).

Each access unit is built once: the NAL payloads of its packets are collected as slices of
the packets, each behind its prefix (a 4-byte start code for Annex-B, a 4-byte length for
AVCC), and joined into one ``bytes`` when the unit ends. Only the NAL header of each unit
is looked at (IDR, SPS, PPS). A unit is emitted the moment the packet with the marker bit
arrives, so nothing waits for the next frame (FFmpeg's RTSP demuxer holds each frame until
the next one starts, about one frame interval of added latency). RTP headers without
CSRCs, extension or padding (what cameras send) take a short path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from argus_common.h264 import (
    NAL_FU_A,
    NAL_STAP_A,
    START_CODE,
    begins_picture,
    nal_type,
    split_annexb,
    split_avcc,
)

_IDR, _SPS, _PPS, _STAP_A, _FU_A = 5, 7, 8, 24, 28
_BYTE = [bytes((i,)) for i in range(256)]  # an FU-A unit's rebuilt NAL header, shared
HEAD = 33  # bytes of a slice kept for its header (what h264.slice_type reads)


@dataclass(slots=True)
class H264Unit:
    """One H.264 access unit. ``data``: Annex-B (4-byte start codes) or AVCC (4-byte
    lengths), as the depacketizer was made; ``ts`` counts 90 kHz ticks from the first unit
    of the connection (unwrapped); ``recv_ms``: wall clock (epoch ms) at its last packet;
    ``sps``/``pps``: its in-band parameter sets (the last of each), None when it has none;
    ``slice_heads``: the first bytes (``HEAD``) of each coded slice, only when asked."""

    data: bytes
    ts: int
    key: bool
    recv_ms: float
    sps: bytes | None
    pps: bytes | None
    slice_heads: list[bytes] | None = None


def rtp_payload_bounds(pkt: bytes) -> tuple[int, int] | None:
    """Start and end of an RTP packet's payload (CSRCs, extension and padding skipped);
    None when it is not RTP version 2 or its header overruns the packet."""
    if len(pkt) < 12:
        return None
    b0 = pkt[0]
    if b0 >> 6 != 2:
        return None
    start = 12 + 4 * (b0 & 0x0F)
    end = len(pkt)
    if b0 & 0x10:  # header extension
        if end < start + 4:
            return None
        start += 4 + 4 * ((pkt[start + 2] << 8) | pkt[start + 3])
    if b0 & 0x20 and end > start:  # padding
        end -= pkt[-1]
    return (start, end) if start <= end else None


def starts_picture(payload: bytes) -> bool:
    """Whether an H.264 RTP payload can be the first of an access unit (its first NAL unit
    is a delimiter, parameter set, SEI or the first slice of a picture)."""
    kind = nal_type(payload)
    if kind == NAL_STAP_A:
        return begins_picture(payload[3:])
    if kind == NAL_FU_A:
        if len(payload) < 2 or not payload[1] & 0x80:
            return False
        return begins_picture(bytes([payload[1] & 0x1F]) + payload[2:])
    return begins_picture(payload)


class TimestampUnwrapper:
    """Turns 32-bit RTP timestamps into a monotonic count from the first one."""

    def __init__(self) -> None:
        self._first: int | None = None
        self._last = 0
        self._offset = 0

    @property
    def first(self) -> int | None:
        """The first RTP timestamp (count 0); None before any."""
        return self._first

    def __call__(self, ts: int) -> int:
        if self._first is None:
            self._first = self._last = ts
        delta = (ts - self._last) & 0xFFFFFFFF
        if delta >= 0x80000000:  # backwards (reordering): no wrap
            delta -= 0x100000000
        self._offset += delta
        self._last = ts
        return self._offset


class H264Depacketizer:
    """Per-connection H.264 RTP state; call it with ``(channel, packet)`` for every
    interleaved frame (the RTSP client's ``on_rtp``).

    Packets of ``channel`` are depacketized and every complete unit goes to ``on_unit``;
    other channels (audio, RTCP) go to ``on_other`` when given. A sequence gap drops the
    unit in progress (it cannot be decoded), counts in :attr:`lost` and calls ``on_loss``;
    after a gap a unit is kept only if its first packet can begin a picture. ``annexb``
    picks the output format; ``slice_heads`` collects each slice's header (B-frame checks).
    """

    def __init__(
        self,
        on_unit: Callable[[H264Unit], None] | None = None,
        *,
        channel: int = 0,
        annexb: bool = False,
        on_other: Callable[[int, bytes], None] | None = None,
        on_loss: Callable[[], None] | None = None,
        slice_heads: bool = False,
    ) -> None:
        self._pending: list[H264Unit] = []
        self.on_unit = on_unit if on_unit is not None else self._pending.append
        self.channel = channel
        self.on_other = on_other
        self.on_loss = on_loss
        self.annexb = annexb
        self.lost = 0  # units dropped for a sequence gap
        self._prefix = START_CODE if annexb else None  # None: the NAL's length
        self._heads: list[bytes] | None = [] if slice_heads else None
        self._parts: list[bytes] = []
        self._fu_at = -1  # index in _parts of the prefix of the FU-A unit being joined
        self._fu_len = 0
        self._seq = -1  # the next sequence number expected
        self._ts = b""
        self._broken = False
        self._key = False
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._unwrap = TimestampUnwrapper()

    def __call__(self, channel: int, pkt: bytes) -> None:
        if channel != self.channel:
            if self.on_other is not None:
                self.on_other(channel, pkt)
            return
        if len(pkt) > 13 and pkt[0] == 0x80:  # version 2, nothing optional, 2+ bytes
            start, end = 12, len(pkt)
        else:
            bounds = rtp_payload_bounds(pkt)
            if bounds is None:
                return
            start, end = bounds
            if end - start < 2:
                self._short(pkt, start, end)
                return
        seq = (pkt[2] << 8) | pkt[3]
        gap = seq != self._seq and self._seq >= 0
        if gap:
            self._broken = True  # the unit in progress has a hole: it will be dropped
            self.lost += 1
            if self.on_loss is not None:
                self.on_loss()
        self._seq = (seq + 1) & 0xFFFF
        ts = pkt[4:8]
        if ts != self._ts:
            self._finish()  # a new timestamp: the previous unit ends, marker or not
            self._ts = ts
            if gap:
                # The lost packets may also have been this unit's first ones: keep it only
                # if this packet can begin a picture (else a picture short of its first
                # slices would be written or sent as whole).
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
                parts.append(self._prefix or b"")
                parts.append(_BYTE[(nh & 0xE0) | kind])
                parts.append(pkt[start + 2:end])
                if kind == _IDR:
                    self._key = True
            elif self._fu_at < 0:
                self._broken = True  # a middle piece whose start we never saw
            else:
                parts.append(pkt[start + 2:end])
                self._fu_len += end - start - 2
            if fh & 0x40 and self._fu_at >= 0:
                at = self._fu_at
                if self._prefix is None:
                    parts[at] = self._fu_len.to_bytes(4, "big")
                kind = parts[at + 1][0] & 0x1F
                if kind == _SPS or kind == _PPS or self._heads is not None:
                    self._fu_done(parts, at)
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
        # Other types (STAP-B, MTAP, FU-B) are not used by cameras in packetization-mode 1.
        if pkt[1] & 0x80:
            self._finish()

    def packet(self, pkt: bytes) -> None:
        """One RTP packet of the video channel."""
        self(self.channel, pkt)

    def _short(self, pkt: bytes, start: int, end: int) -> None:
        """A payload of 0 or 1 byte, handled as the STAP-A that means the same, so that the
        hot path above can count on two bytes (and the sequence number still counts)."""
        one = pkt[start:end]
        kind = one[0] & 0x1F if one else 0
        if 0 < kind < 24:
            same = b"\x18\x00\x01" + one  # a 1-byte NAL unit (end of sequence/stream)
        elif kind == _FU_A:
            same = b"\x18\x00\x00"  # no fragment header: data lost (size 0 breaks the unit)
        else:
            same = b"\x18\x00"  # nothing (an empty STAP-A)
        self(self.channel, b"\x80" + pkt[1:12] + same)

    def push(self, seq: int, ts: int, marker: bool, payload: bytes) -> list[bytes] | None:
        """Add one RTP payload by its header fields; returns the NAL units of the access
        unit it completed (the last one, if two), or None. For a depacketizer made without
        ``on_unit`` (tests, simple callers)."""
        self.packet(bytes((0x80, 0x80 if marker else 0)) + (seq & 0xFFFF).to_bytes(2, "big")
                    + (ts & 0xFFFFFFFF).to_bytes(4, "big") + bytes(4) + payload)
        if not self._pending:
            return None
        unit = self._pending[-1]
        self._pending.clear()
        return split_annexb(unit.data) if self.annexb else split_avcc(unit.data)

    def _nal(self, nal: bytes, kind: int) -> None:
        self._parts.append(self._prefix or len(nal).to_bytes(4, "big"))
        self._parts.append(nal)
        if kind == _IDR:
            self._key = True
        elif kind == _SPS:
            self._sps = nal
        elif kind == _PPS:
            self._pps = nal
        if self._heads is not None and (kind == 1 or kind == _IDR):
            self._heads.append(nal[:HEAD])

    def _fu_done(self, parts: list[bytes], at: int) -> None:
        """A unit joined from FU-A pieces that is not a plain slice: a parameter set larger
        than one packet, or a slice whose header is wanted."""
        kind = parts[at + 1][0] & 0x1F
        if kind == _SPS or kind == _PPS:
            nal = b"".join(parts[at + 1:])
            if kind == _SPS:
                self._sps = nal
            else:
                self._pps = nal
        elif self._heads is not None and (kind == 1 or kind == _IDR):
            head, k = parts[at + 1], at + 2
            while len(head) < HEAD and k < len(parts):
                head += parts[k]
                k += 1
            self._heads.append(head[:HEAD])

    def _finish(self) -> None:
        parts, broken = self._parts, self._broken or self._fu_at >= 0
        key, sps, pps, heads = self._key, self._sps, self._pps, self._heads
        self._parts, self._fu_at, self._broken = [], -1, False
        self._key, self._sps, self._pps = False, None, None
        if heads is not None:
            self._heads = []
        if broken or not parts:
            return
        ts = self._unwrap(int.from_bytes(self._ts, "big"))
        self.on_unit(H264Unit(b"".join(parts), ts, key, time.time() * 1000.0, sps, pps,
                              heads))
