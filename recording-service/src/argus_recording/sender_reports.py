"""Capture times from the camera's RTCP sender reports (RFC 3550 6.4.1).

A sender report maps one RTP timestamp of a track to the camera's NTP wall clock, so every
frame's capture time is known, not only when it arrived. The arrival time of a
connection's first frame can be late by up to a second under load (a busy event loop, a
slow network): the live clock (``clock.py``) would carry that delay for the whole
connection, and a backfill that ends at that frame (replayed with its capture time, the
ONVIF replay's NTP header extension) would leave an index hole of that size.

The camera's clock is only used where it agrees with ours: a capture time more than
``BEHIND_MS`` before the arrival or ``AHEAD_MS`` after it is a wrong camera clock, and the
arrival time is used instead (cameras with a wrong clock keep being recorded on our clock).
"""

from __future__ import annotations

import struct

from argus_common.rtsp.depay import TimestampUnwrapper

NTP_EPOCH_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
BEHIND_MS = 3000.0  # capture this long before arrival at most (delay, queueing, skew)
AHEAD_MS = 500.0  # capture after arrival: only a camera clock a little ahead of ours
_SR = struct.Struct("!IIII")  # SSRC, NTP seconds, NTP fraction, RTP timestamp


class SenderReports:
    """The newest sender report of one track, and the track's unwrapper (its first RTP
    timestamp relates the unwrapped counts of units to the report's RTP timestamp)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.unwrap: TimestampUnwrapper | None = None  # set by the assembler
        self._rtp: int | None = None
        self._ntp_ms = 0.0

    def feed(self, rtcp: bytes) -> None:
        """One (compound) RTCP packet of the track: its sender report, if any, is kept."""
        off = 0
        for _ in range(16):  # a compound packet holds a few reports at most
            if off + 4 > len(rtcp):
                return
            length = 4 * (((rtcp[off + 2] << 8) | rtcp[off + 3]) + 1)
            if rtcp[off] >> 6 == 2 and rtcp[off + 1] == 200 and off + 4 + _SR.size <= len(rtcp):
                _ssrc, sec, frac, rtp = _SR.unpack_from(rtcp, off + 4)
                if sec:  # 0: the sender has no wall clock
                    self._rtp = rtp
                    self._ntp_ms = (sec - NTP_EPOCH_OFFSET_S) * 1000.0 + frac * 1000.0 / 2**32
            off += length

    def capture_ms(self, ts: int) -> float | None:
        """Camera wall-clock time (epoch ms) of a unit whose unwrapped timestamp is ``ts``;
        None before a report (or before the track's first unit)."""
        first = self.unwrap.first if self.unwrap is not None else None
        if self._rtp is None or first is None or not self.rate:
            return None
        delta = (first + ts - self._rtp) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        return self._ntp_ms + delta * 1000.0 / self.rate

    def time_ms(self, ts: int, recv_ms: float) -> float:
        """The capture time of the unit when the camera's clock agrees with ours (see the
        module docstring), else its arrival time."""
        capture = self.capture_ms(ts)
        if capture is None or not -AHEAD_MS <= recv_ms - capture <= BEHIND_MS:
            return recv_ms
        return capture
