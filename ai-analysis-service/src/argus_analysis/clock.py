"""Capture time of live frames: media timestamps mapped to wall-clock time.

The offset ``arrival - media time`` of the least delayed packet is the best estimate of
where media time 0 lies on our clock (a packet can arrive late, never early). The
smallest offset of the current window is used; windows roll over every ``window_s``, so
a camera clock running slightly fast or slow against ours is followed.
"""

from __future__ import annotations

import math


class WallClock:
    """Maps one connection's media time (seconds) to wall-clock epoch seconds."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self.anchor: float | None = None
        self._window_min = math.inf
        self._window_end = 0.0
        self._last_media: float | None = None

    def observe(self, media_s: float, arrival: float) -> float:
        """Note a packet of media time ``media_s`` received at ``arrival``; returns its
        capture time."""
        offset = arrival - media_s
        if self._last_media is not None and media_s < self._last_media - 1.0:
            self.anchor = None  # timestamps went back (camera restarted them): start over
            self._window_min = math.inf
        self._last_media = media_s
        if self.anchor is None or offset < self.anchor:
            # Earlier than the anchor says is impossible: the anchor was too late.
            self.anchor = offset
        if offset < self._window_min:
            self._window_min = offset
        if arrival >= self._window_end:
            if self._window_min is not math.inf and self._window_end:
                self.anchor = self._window_min
            self._window_min = math.inf
            self._window_end = arrival + self.window_s
        return self.anchor + media_s

    def wall(self, media_s: float) -> float:
        """Capture time of ``media_s`` (the clock must have observed a packet)."""
        assert self.anchor is not None
        return self.anchor + media_s
