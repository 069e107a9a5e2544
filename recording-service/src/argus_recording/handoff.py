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

Cameras recording on events (``EventRecorder``) hand over too. The taker's standby is
ready once its buffer also reaches back a pre-roll (while an event is open, at its first
keyframe: the clip only continues); on ``go`` the buffer fills the recorder's ring. The
taker knows the camera's events itself: every recorder reads the whole event stream,
replays the recent events of a camera it stands by for and routes the live ones to it
(crew.py), so its window is the giver's (the spans come from the events' own times).
With no clip open the giver stops at once and publishes the end of its last clip (or where
its own media began) as ``t``; with a clip open it cuts at a keyframe as above. The taker
tells the two apart by its window: a span open at ``t`` means a clip to continue from its
copy of the keyframe at ``t`` (same shift as above); none means it writes nothing before
``t`` but keeps everything after ``t`` as pre-roll, so an event right after the handover
has all of it.

Flags are set from the service's loop and read in the RTSP ingest's callback or the PyAV
thread (single attribute writes, safe under the GIL).
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import structlog

from argus_recording.clock import MediaClock
from argus_recording.modes import EventRecorder
from argus_recording.packets import Item
from argus_recording.ring import PreRoll

if TYPE_CHECKING:
    from argus_recording.fencing import CameraLock
    from argus_recording.modes import ContinuousRecorder

log = structlog.get_logger("argus.recording.handoff")
KEEP_MS = 12_000.0  # standby buffer: covers the giver's cut and the poll that reports it
_LOCK_TRY_S = 0.05
_MAX_MATCH_MS = 400.0  # a keyframe this near to t (and within half a GOP) is the same one


class Handoff:
    """Standby and cut state of one camera worker."""

    def __init__(self, lock: CameraLock, standby: bool, pre_roll_ms: float = 0.0) -> None:
        self.lock = lock
        self.pre_roll_ms = pre_roll_ms  # events mode: ready once the buffer holds this much
        self.standby = standby
        self.ready = False
        self.cut_done = False
        self.cut_ms: float | None = None
        self._cut_asked = False
        self._go = False
        self._go_ms: float | None = None
        self._buffer = PreRoll(KEEP_MS + pre_roll_ms)  # whole GOPs while standing by
        self._next_try = 0.0
        self._first_ms: float | None = None  # the first packet this worker recorded

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
        if self._first_ms is None:
            self._first_ms = item.wall_ms
        if self._cut_asked and isinstance(recorder, EventRecorder) and _idle(recorder, item):
            # No clip open: nothing to continue, stop now. The taker may write what follows
            # the end of our last clip (or the start of our media, before which we wrote
            # nothing), so it keeps that as pre-roll.
            recorder.stop()
            self.cut_ms = max(recorder.last_end_ms, self._first_ms)
            self.cut_done = True
            log.info("handover_cut_idle", t_ms=round(self.cut_ms, 1))
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
        if item.is_video and item.key and self._ready_at(item, recorder):
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
        if isinstance(recorder, EventRecorder):
            items = self._event_items(item, clock, recorder)
        else:
            items = self._start_items(item, clock)
        for buffered in items:
            recorder.on_packet(buffered)

    def _ready_at(self, key: Item, recorder: ContinuousRecorder | EventRecorder) -> bool:
        """Events mode: ready once the buffer holds a pre-roll (an event right after the
        handover has it), or at once while an event is open (the clip only continues)."""
        if self._buffer.span_ms >= self.pre_roll_ms:
            return True
        return isinstance(recorder, EventRecorder) and recorder.window.span(key.wall_ms) is not None

    def _event_items(self, current: Item, clock: MediaClock, recorder: EventRecorder) -> list[Item]:
        """Events mode: the whole buffer goes to the recorder (its pre-roll ring), which
        writes nothing before ``not_before``: ``t`` itself, the giver's cut keyframe or the
        end of its last clip, or, without a ``t`` while an event is open, from now on."""
        t = self._go_ms
        if t is not None and recorder.window.span(t) is not None:
            items = self._start_items(current, clock, keep_before=True)
            not_before = t
        elif t is not None:
            items = [i for g in self._buffer.drain() for i in g]
            not_before = t
            log.info("handover_writing_events", t_ms=t, open=False, buffered=len(items))
        else:
            items = [i for g in self._buffer.drain() for i in g]
            open_now = recorder.window.span(current.wall_ms) is not None
            # Unknown end of the giver's recording: a gap rather than an overlap.
            not_before = (
                current.wall_ms if open_now else recorder.window.ended_by(current.wall_ms)
            )
            log.info("handover_writing_events", t_ms=None, open=open_now, buffered=len(items))
        recorder.last_end_ms = max(recorder.last_end_ms, not_before)
        return items

    def _start_items(
        self, current: Item, clock: MediaClock, keep_before: bool = False
    ) -> list[Item]:
        """What the first segment starts with: the buffer from the keyframe at ``t``
        (``keep_before``: and the GOPs before it, for an event recorder's ring)."""
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
            chosen = gops if keep_before else gops[best:]
            clock.shift(delta)
        else:
            # The keyframe at t is not in the buffer: the first one after it, unshifted.
            chosen = gops if keep_before else [g for g in gops if g[0].wall_ms > t]
            delta = 0.0
            log.warning("handover_keyframe_missing", t_ms=t, nearest_ms=round(keys[best], 1))
        items = [i for g in chosen for i in g]
        for buffered in items:
            buffered.wall_ms += delta
        if delta:
            gops[best][0].wall_ms = t  # exactly where the giver's recording ended
        log.info("handover_writing", t_ms=t, shift_ms=round(delta, 1), buffered=len(items))
        return items


def _idle(recorder: EventRecorder, item: Item) -> bool:
    """No event clip is open and none is about to open at ``item``."""
    return recorder.writer is None and recorder.window.span(item.wall_ms) is None
