"""Wall-clock time of media timestamps.

Anchor: the wall-clock time at which the first packet of a connection is received, minus
its media time; every later packet's time is the anchor plus its PTS delta. So time is
continuous inside a connection (segment N ends exactly where N+1 starts) and cameras with
a wrong clock do not matter. FFmpeg's probing is turned off for RTSP (ingest.py), so the
first packet is not one buffered while probing.

A camera clock runs a little fast or slow against ours. The lowest ``arrival - media
time`` seen during a segment (the least delayed packet) tracks where the anchor should
be; when it moves more than ``max_drift_ms`` away, the anchor is reset at the next
segment boundary, the only place a small jump is acceptable.
"""

from __future__ import annotations

import math


class MediaClock:
    """Maps one connection's media time (seconds) to wall-clock epoch milliseconds."""

    def __init__(self, max_drift_ms: float) -> None:
        self.max_drift_ms = max_drift_ms
        self.anchor_ms: float | None = None
        self._window_min = math.inf
        self._bias_ms = 0.0  # shift(): where this clock was moved against arrival times

    def observe(self, media_s: float, recv_ms: float) -> float:
        """Note a packet received at ``recv_ms``; returns its wall-clock time."""
        offset = recv_ms - media_s * 1000.0 + self._bias_ms
        if self.anchor_ms is None:
            self.anchor_ms = offset
        if offset < self._window_min:
            self._window_min = offset
        return self.anchor_ms + media_s * 1000.0

    def wall_ms(self, media_s: float) -> float:
        """Wall-clock time of ``media_s`` (the clock must be anchored)."""
        assert self.anchor_ms is not None
        return self.anchor_ms + media_s * 1000.0

    @property
    def anchored(self) -> bool:
        return self.anchor_ms is not None

    def at_boundary(self) -> bool:
        """Called between two segments: re-anchor if the stream drifted; True if it did."""
        window, self._window_min = self._window_min, math.inf
        if self.anchor_ms is None or window is math.inf:
            return False
        drift = window - self.anchor_ms
        if abs(drift) <= self.max_drift_ms:
            return False
        self.anchor_ms = window
        return True

    def shift(self, delta_ms: float) -> None:
        """Move the clock by ``delta_ms`` for good (a handover aligns the new owner's
        clock with the previous owner's, handoff.py); drift is tracked from there."""
        if self.anchor_ms is not None:
            self.anchor_ms += delta_ms
        self._bias_ms += delta_ms
        if self._window_min is not math.inf:
            self._window_min += delta_ms

    def reset(self) -> None:
        """Forget the anchor (timestamp discontinuity): the next packet anchors again."""
        self.anchor_ms = None
        self._window_min = math.inf
