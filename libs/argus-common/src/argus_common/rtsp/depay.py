"""RTP depacketization (RFC 6184 for H.264) into whole access units, on the marker bit.

An access unit is emitted the moment the packet carrying the marker bit arrives, so nothing
waits for the next frame (FFmpeg's RTSP demuxer holds each frame until the next one starts,
about one frame interval of added latency).
"""

from __future__ import annotations

from argus_common.h264 import NAL_FU_A, NAL_STAP_A, begins_picture, nal_type


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
    """Collects the NAL units of one access unit from RTP payloads.

    A sequence gap drops the access unit in progress and sets :attr:`lost`, so the caller
    can resync its viewers at the next keyframe instead of sending a broken picture.
    """

    def __init__(self) -> None:
        self._nals: list[bytes] = []
        self._fu: bytearray | None = None
        self._ts: int | None = None
        self._seq: int | None = None
        self._broken = False
        self.lost = 0

    def push(self, seq: int, ts: int, marker: bool, payload: bytes) -> list[bytes] | None:
        """Add one RTP payload; returns the complete access unit when ``marker`` ends it."""
        out: list[bytes] | None = None
        gap = self._seq is not None and seq != (self._seq + 1) & 0xFFFF
        if gap:
            self._broken = True
            self._fu = None
            self.lost += 1
        self._seq = seq
        if self._ts is not None and ts != self._ts:
            # A new timestamp: the previous frame ends here, marker or not (dropped if the
            # gap was in it).
            out = self._finish()
            if gap:
                # The lost packets may also have been this frame's first ones: keep it only
                # if this packet can begin a picture (else a picture short of its first
                # slices would go out as whole).
                self._broken = not starts_picture(payload)
        self._ts = ts
        if payload:
            self._add(payload)
        if marker:
            done = self._finish()
            return done if done is not None else out
        return out

    def _finish(self) -> list[bytes] | None:
        nals, broken = self._nals, self._broken
        self._nals, self._fu, self._broken = [], None, False
        if broken or not nals:
            return None
        return nals

    def _add(self, payload: bytes) -> None:
        t = nal_type(payload)
        if 1 <= t <= 23:
            self._nals.append(payload)
        elif t == NAL_STAP_A:
            i = 1
            while i + 2 <= len(payload):
                size = int.from_bytes(payload[i : i + 2], "big")
                i += 2
                if size == 0 or i + size > len(payload):
                    self._broken = True
                    break
                self._nals.append(payload[i : i + size])
                i += size
        elif t == NAL_FU_A and len(payload) >= 2:
            header = payload[1]
            start, end = header & 0x80, header & 0x40
            if start:
                self._fu = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
            elif self._fu is None:
                self._broken = True  # middle of a unit whose start we lost
                return
            self._fu += payload[2:]
            if end:
                self._nals.append(bytes(self._fu))
                self._fu = None
        # Other types (STAP-B, MTAP, FU-B) are not used by cameras in packetization-mode 1.
