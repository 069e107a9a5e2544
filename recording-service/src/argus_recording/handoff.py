"""A worker's side of a make-before-break handover (argus_common.handover).

The giver's worker, asked to ``cut``, ends its segment at the next keyframe and notes that
keyframe's wall-clock time ``t``; it writes nothing after. The taker's worker runs in
standby meanwhile: connected, it keeps the last seconds of packets (whole GOPs) and is
``ready`` once it has a keyframe. Told to ``go`` with ``t``, it takes the camera's writer
lock (free once the giver's last segment is finished) and starts its first segment at its
own copy of that keyframe: the one nearest to ``t`` in its buffer. The two recorders stamp
frames from their own arrival times (clock.py), which differ by a few milliseconds, so the
taker shifts its clock by the difference: its first segment starts exactly at ``t``, where
the giver's last one ended, and later ones follow on. A keyframe that is not in the buffer
(a reconnect in standby) means a start at the first keyframe after ``t``: a gap of up to a
GOP, never an overlap.

Flags are set from the service's loop and read in the ingest callback (single attribute
writes, safe under the GIL).
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import structlog

from argus_recording.clock import MediaClock
from argus_recording.packets import Item
from argus_recording.ring import PreRoll

if TYPE_CHECKING:
    from argus_recording.fencing import CameraLock
    from argus_recording.modes import ContinuousRecorder, EventRecorder

log = structlog.get_logger("argus.recording.handoff")
KEEP_MS = 12_000.0  # standby buffer: covers the giver's cut and the poll that reports it
_LOCK_TRY_S = 0.05
_MAX_MATCH_MS = 400.0  # a keyframe this near to t (and within half a GOP) is the same one


class Handoff:
    """Standby and cut state of one camera worker."""

    def __init__(self, lock: CameraLock, standby: bool) -> None:
        self.lock = lock
        self.standby = standby
        self.ready = False
        self.cut_done = False
        self.cut_ms: float | None = None
        self._cut_asked = False
        self._go = False
        self._go_ms: float | None = None
        self._buffer = PreRoll(KEEP_MS)  # whole GOPs while standing by
        self._next_try = 0.0

    # -- from the supervisor -------------------------------------------------------------
    def ask_cut(self) -> None:
        """End the recording at the next keyframe."""
        self._cut_asked = True

    def go(self, t_ms: float | None) -> None:
        """Start writing at the keyframe at ``t_ms`` (None: at the next keyframe)."""
        self._go_ms = t_ms
        self._go = True

    # -- from the ingest -----------------------------------------------------------------
    def new_session(self) -> None:
        """A new connection: its clock is new, the buffer is of no use."""
        self._buffer.clear()
        self.ready = False

    def feed(
        self, item: Item, recorder: ContinuousRecorder | EventRecorder, clock: MediaClock
    ) -> bool:
        """Pass ``item`` to ``recorder`` unless standing by or cut; False when the
        recorder could not take it."""
        if self.cut_done:
            return True
        if self.standby:
            self._stand_by(item, recorder, clock)
            return True
        if self._cut_asked and item.is_video and item.key:
            recorder.stop(item.wall_ms)
            self.cut_ms = item.wall_ms
            self.cut_done = True
            log.info("handover_cut_at_keyframe", t_ms=round(item.wall_ms, 1))
            return True
        return recorder.on_packet(item)

    def _stand_by(
        self, item: Item, recorder: ContinuousRecorder | EventRecorder, clock: MediaClock
    ) -> None:
        self._buffer.push(item)
        if item.is_video and item.key:
            self.ready = True
        if not self._go:
            return
        now = time.monotonic()
        if now < self._next_try:
            return
        self._next_try = now + _LOCK_TRY_S
        if not self.lock.try_acquire():
            return
        self.standby = False
        for buffered in self._start_items(item, clock):
            recorder.on_packet(buffered)

    def _start_items(self, current: Item, clock: MediaClock) -> list[Item]:
        """What the first segment starts with: the buffer from the keyframe at ``t``."""
        t = self._go_ms
        gops = self._buffer.drain()
        if t is None or not gops:
            log.info("handover_writing", at="next keyframe", t_ms=t)
            return [current] if current.is_video and current.key else []
        keys = [g[0].wall_ms for g in gops]
        best = min(range(len(gops)), key=lambda i: abs(keys[i] - t))
        spacing = [b - a for a, b in itertools.pairwise(keys)]
        tolerance = min([_MAX_MATCH_MS, *(s / 2 for s in spacing)])
        delta = t - keys[best]
        if abs(delta) <= tolerance:
            chosen = gops[best:]
            clock.shift(delta)
        else:
            # The keyframe at t is not in the buffer: the first one after it, unshifted.
            chosen = [g for g in gops if g[0].wall_ms > t]
            delta = 0.0
            log.warning("handover_keyframe_missing", t_ms=t, nearest_ms=round(keys[best], 1))
        items = [i for g in chosen for i in g]
        for buffered in items:
            buffered.wall_ms += delta
        log.info("handover_writing", t_ms=t, shift_ms=round(delta, 1), buffered=len(items))
        return items
