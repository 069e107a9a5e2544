"""Which events keep a camera's event recording open (shared by the loop and a worker).

Start events (``motion.start``, ``rtmp.publish``, ``manual``, a camera's ``tamper.start`` and
``input.start``) open a recording; the end events (``motion.end``, ``rtmp.unpublish``,
``tamper.end``, ``input.end``) or a manual event's ``ends_at`` close it. Object
rule events (``object.zone_enter``, ``object.line_cross``, …) are instants: they record the
pre-roll before them and the post-roll after them. Each event records until its end plus
the post-roll, at most ``max_ms`` after its start; any events whose spans overlap make one
recording.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

START_TYPES = {"motion.start": "motion", "rtmp.publish": "rtmp", "manual": "manual",
               # a camera's own ONVIF events (management's PullPoint subscriptions)
               "tamper.start": "tamper", "input.start": "input"}
END_TYPES = {"motion.end": "motion", "rtmp.unpublish": "rtmp", "tamper.end": "tamper",
             "input.end": "input"}
# The analyser's rule events. The track summary (``object.track``) comes when a track has
# ended and opens nothing.
INSTANT_TYPES = frozenset({"object.zone_enter", "object.zone_leave", "object.zone_dwell",
                           "object.zone_count", "object.line_cross"})
_FORGET_AFTER_MS = 60_000.0


@dataclass
class _Event:
    group: str
    start_ms: float
    end_ms: float | None


class EventWindow:
    """Active events of one camera. The event consumer writes; the camera thread reads."""

    def __init__(self, post_roll_ms: float, max_ms: float) -> None:
        self.post_roll_ms = post_roll_ms
        self.max_ms = max_ms
        self._lock = threading.Lock()
        self._events: dict[str, _Event] = {}

    def apply(self, event_type: str, key: str, ts_ms: float, ends_at_ms: float | None) -> bool:
        """Take one event message into account; False when its type is not ours."""
        with self._lock:
            if event_type in START_TYPES:
                if key not in self._events:
                    self._events[key] = _Event(START_TYPES[event_type], ts_ms, ends_at_ms)
                return True
            if event_type in INSTANT_TYPES:
                self._events.setdefault(key, _Event("object", ts_ms, ts_ms))
                return True
            group = END_TYPES.get(event_type)
            if group is None:
                return False
            for event in self._events.values():
                if event.group == group and event.end_ms is None and event.start_ms <= ts_ms:
                    event.end_ms = ts_ms
            return True

    def open_ended(self, key: str, ts_ms: float) -> None:
        """Start an event of our own (``key``) that lasts until ``end`` (at most
        ``max_ms``): the recorder's fail-safe while it cannot hear events."""
        with self._lock:
            self._events.setdefault(key, _Event("failsafe", ts_ms, None))

    def end(self, key: str, ts_ms: float) -> None:
        """End the event ``key`` at ``ts_ms`` (the post-roll follows)."""
        with self._lock:
            event = self._events.get(key)
            if event is not None and event.end_ms is None:
                event.end_ms = max(ts_ms, event.start_ms)

    def _until(self, event: _Event) -> float:
        cap = event.start_ms + self.max_ms
        end = cap if event.end_ms is None else min(event.end_ms, cap)
        return max(end, event.start_ms) + self.post_roll_ms

    def span(self, now_ms: float) -> tuple[float, float] | None:
        """``(first start, until)`` of the events still recording at ``now_ms``."""
        with self._lock:
            start: float | None = None
            until = 0.0
            stale = []
            for key, event in self._events.items():
                end = self._until(event)
                if end <= now_ms:
                    if end < now_ms - _FORGET_AFTER_MS:
                        stale.append(key)
                    continue
                if event.start_ms > now_ms:
                    continue  # reported ahead of our clock: not yet
                start = event.start_ms if start is None else min(start, event.start_ms)
                until = max(until, end)
            for key in stale:
                del self._events[key]
        return None if start is None else (start, until)

    def ended_by(self, now_ms: float) -> float:
        """Where the last recording that has ended by ``now_ms`` ended (0: none known)."""
        with self._lock:
            ends = [self._until(e) for e in self._events.values()]
        return max((end for end in ends if end <= now_ms), default=0.0)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
