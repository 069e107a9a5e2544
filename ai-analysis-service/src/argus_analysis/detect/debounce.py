"""From per-frame motion to motion events: start after N frames in a row, end after M
seconds without any.

A single noisy frame never starts an event, and an object pausing for a moment does not
end one. Times are the frames' capture times (seconds), so the rules hold whatever the
decoding speed (a job runs faster than real time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Transition:
    """A motion event starting or ending.

    ``start``: ``ts`` is the first frame of the run that started it, ``trigger_ts`` the
    frame that completed the run. ``end``: ``ts`` is the last frame with motion.
    """

    kind: Literal["start", "end"]
    ts: float
    trigger_ts: float
    frames: int  # frames with motion during the event (end), or in the run (start)


class Debouncer:
    """Motion state of one camera (or job)."""

    def __init__(self, start_frames: int, end_quiet_s: float) -> None:
        self.start_frames = max(1, start_frames)
        self.end_quiet_s = max(0.0, end_quiet_s)
        self.active = False
        self._run = 0
        self._run_start = 0.0
        self._last_motion = 0.0
        self._event_frames = 0

    def configure(self, start_frames: int, end_quiet_s: float) -> None:
        """New settings take effect from the next frame; an event in progress goes on."""
        self.start_frames = max(1, start_frames)
        self.end_quiet_s = max(0.0, end_quiet_s)

    def update(self, motion: bool, ts: float) -> Transition | None:
        """Feed one frame's result; returns the transition it causes, if any."""
        if motion:
            self._last_motion = ts
            if self.active:
                self._event_frames += 1
                return None
            if self._run == 0:
                self._run_start = ts
            self._run += 1
            if self._run >= self.start_frames:
                self.active = True
                self._event_frames = self._run
                self._run = 0
                return Transition("start", self._run_start, ts, self._event_frames)
            return None
        self._run = 0
        if self.active and ts - self._last_motion >= self.end_quiet_s:
            return self._end(ts)
        return None

    def stop(self, ts: float) -> Transition | None:
        """The stream stopped: an event in progress ends at its last motion."""
        self._run = 0
        return self._end(ts) if self.active else None

    def _end(self, ts: float) -> Transition:
        self.active = False
        frames, self._event_frames = self._event_frames, 0
        return Transition("end", self._last_motion, ts, frames)
