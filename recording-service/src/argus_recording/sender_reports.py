"""Capture times from the camera's RTCP sender reports (RFC 3550 6.4.1).

A sender report maps one RTP timestamp of a track to the camera's NTP wall clock, so every
frame's capture time is known, not only when it arrived. The arrival time of a
connection's first frame can be late by up to a second under load (a busy event loop, a
slow network): the live clock (``clock.py``) would carry that delay for the whole
connection, and a backfill that ends at that frame (replayed with its capture time, the
ONVIF replay's NTP header extension) would leave an index hole of that size.

The camera's clock is only used where it agrees with ours, and that is decided once per
connection (``CameraClock``), not per frame: a per-frame choice flips between the two
clocks when the camera's offset sits near a bound, and the drift window of the live clock
then sees offsets seconds apart. The first frame stamped decides: with a report, and its
capture time at most ``BEHIND_MS`` before its arrival and at most ``AHEAD_MS`` after it,
capture times are used for the whole connection; else arrival times are, throughout (a
camera whose first report comes after its first frame included: the clock is anchored on
arrival by then). A trusted connection keeps an estimate of the offset (arrival -
capture: the least seen on its frames, moved by every step between one report's mapping
and the next). Only a later clock step that takes it out of the window by
``STEP_MARGIN_MS`` (arrival delays under load do not) turns the connection to arrival
times, for good, logged once as ``camera_clock_untrusted``: a step of the camera's clock
shows in its reports, a step back of ours as a capture time after its arrival, and a step
ahead of ours as a report interval all of whose frames arrived over ``BEHIND_MS`` +
``STEP_MARGIN_MS`` after capture (a stall under load does not last a whole interval). The
timeline then follows our clock, as management's does.
"""

from __future__ import annotations

import struct

import structlog

from argus_common.rtsp.depay import TimestampUnwrapper

log = structlog.get_logger("argus.recording.stamping")

NTP_EPOCH_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
BEHIND_MS = 3000.0  # capture this long before arrival at most (delay, queueing, skew)
AHEAD_MS = 500.0  # capture after arrival: only a camera clock a little ahead of ours
STEP_MARGIN_MS = 1000.0  # a later offset this far outside the window is a clock step
_SR = struct.Struct("!IIII")  # SSRC, NTP seconds, NTP fraction, RTP timestamp


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value >= 0x80000000 else value


class CameraClock:
    """Whether one connection uses its camera's clock: ``trusted`` is None until the
    first frame decides, then True until a clock step (``distrust``), or False."""

    def __init__(self) -> None:
        self.trusted: bool | None = None

    def decide(self, offset_ms: float | None) -> bool:
        """The decision on the connection's first frame (``offset_ms``: its arrival -
        capture time; None: no report yet)."""
        self.trusted = offset_ms is not None and -AHEAD_MS <= offset_ms <= BEHIND_MS
        if offset_ms is not None and not self.trusted:
            log.warning("camera_clock_untrusted", offset_ms=round(offset_ms), at="first_frame")
        return self.trusted

    def distrust(self, offset_ms: float) -> None:
        """A clock step: arrival times from now on (logged once)."""
        if self.trusted:
            log.warning("camera_clock_untrusted", offset_ms=round(offset_ms), at="clock_step")
        self.trusted = False


class SenderReports:
    """The newest sender report of one track, and the track's unwrapper (its first RTP
    timestamp relates the unwrapped counts of units to the report's RTP timestamp).
    The tracks of one connection share a ``CameraClock`` (one of its own by default)."""

    def __init__(self, rate: int, camera: CameraClock | None = None) -> None:
        self.rate = rate
        self.camera = camera if camera is not None else CameraClock()
        self.unwrap: TimestampUnwrapper | None = None  # set by the assembler
        self._rtp: int | None = None
        self._ntp_ms = 0.0
        # Least arrival - capture time seen on this track while trusted, in the terms of
        # the newest report (moved by each report's step).
        self._offset_ms: float | None = None
        # Least arrival - capture time of the frames stamped since the newest report.
        self._least_since_report: float | None = None

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
                    self._report(rtp, (sec - NTP_EPOCH_OFFSET_S) * 1000.0 + frac * 1000.0 / 2**32)
            off += length

    def _report(self, rtp: int, ntp_ms: float) -> None:
        least, self._least_since_report = self._least_since_report, None
        if least is not None and least > BEHIND_MS + STEP_MARGIN_MS:
            # Every frame since the last report arrived well after its capture: our clock
            # stepped ahead (or the camera's back). A delay under load is not that steady.
            self.camera.distrust(least)
        if self._rtp is not None and self._offset_ms is not None and self.rate:
            # How far the camera's clock moved beyond what the RTP clock ran since the
            # previous report: a step (or the clock's slow drift) shifts every capture time.
            step = ntp_ms - (self._ntp_ms + _signed32(rtp - self._rtp) * 1000.0 / self.rate)
            self._offset_ms -= step
            if not -AHEAD_MS - STEP_MARGIN_MS <= self._offset_ms <= BEHIND_MS + STEP_MARGIN_MS:
                self.camera.distrust(self._offset_ms)
        self._rtp = rtp
        self._ntp_ms = ntp_ms

    def capture_ms(self, ts: int) -> float | None:
        """Camera wall-clock time (epoch ms) of a unit whose unwrapped timestamp is ``ts``;
        None before a report (or before the track's first unit)."""
        first = self.unwrap.first if self.unwrap is not None else None
        if self._rtp is None or first is None or not self.rate:
            return None
        return self._ntp_ms + _signed32(first + ts - self._rtp) * 1000.0 / self.rate

    @property
    def trusted(self) -> bool | None:
        """The connection's decision (see ``CameraClock``)."""
        return self.camera.trusted

    def time_ms(self, ts: int, recv_ms: float) -> float:
        """The capture time of the unit if the connection uses its camera's clock (see
        the module docstring), else its arrival time."""
        camera = self.camera
        if camera.trusted is False:
            return recv_ms
        capture = self.capture_ms(ts)
        offset = None if capture is None else recv_ms - capture
        if camera.trusted is None and not camera.decide(offset):
            return recv_ms
        if capture is None or offset is None:
            return recv_ms  # another track of a trusted connection, before its first report
        if self._offset_ms is None or offset < self._offset_ms:
            self._offset_ms = offset
        if self._least_since_report is None or offset < self._least_since_report:
            self._least_since_report = offset
        # Delays only make a frame later: a capture time well after its arrival is a step
        # (a step back shows in the reports, _report).
        if self._offset_ms < -AHEAD_MS - STEP_MARGIN_MS:
            camera.distrust(self._offset_ms)
            return recv_ms
        return capture
