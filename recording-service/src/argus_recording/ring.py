"""The pre-roll buffer: the last few seconds of packets, whole GOPs, for event recordings.

Only cameras recording on events keep one (continuous recordings already hold the
past). It holds GOPs back to ``keep_ms`` before the newest packet, so a clip can start at
a keyframe at least the pre-roll before an event, even one reported a little late.
"""

from __future__ import annotations

from collections import deque

from argus_recording.packets import Item


class PreRoll:
    """GOPs of one camera, oldest first."""

    def __init__(self, keep_ms: float) -> None:
        self.keep_ms = keep_ms
        self._gops: deque[list[Item]] = deque()

    def push(self, item: Item) -> None:
        """Add a packet; one that belongs to no buffered GOP is not kept."""
        if item.is_video and item.key:
            self._gops.append([item])
        elif self._gops:
            self._gops[-1].append(item)
        else:
            return
        newest = item.wall_ms
        # Drop the oldest GOP only while the next one alone still reaches back far enough.
        while len(self._gops) >= 2 and newest - self._gops[1][0].wall_ms >= self.keep_ms:
            self._gops.popleft()

    def take(self, target_ms: float, not_before_ms: float) -> list[Item]:
        """Packets from the latest GOP starting at or before ``target_ms`` (else the oldest
        GOP), skipping GOPs before ``not_before_ms``; the buffer is emptied."""
        candidates = [g for g in self._gops if g[0].wall_ms >= not_before_ms]
        if not candidates:
            return []
        chosen = candidates[0]
        for gop in candidates:
            if gop[0].wall_ms <= target_ms:
                chosen = gop
        items: list[Item] = []
        started = False
        for gop in self._gops:
            started = started or gop is chosen
            if started:
                items.extend(gop)
        self._gops.clear()
        return items

    def drain(self) -> list[list[Item]]:
        """Every buffered GOP, oldest first; the buffer is emptied."""
        gops = list(self._gops)
        self._gops.clear()
        return gops

    def clear(self) -> None:
        self._gops.clear()

    @property
    def span_ms(self) -> float:
        """How far back the buffer reaches from its newest packet."""
        if not self._gops:
            return 0.0
        return self._gops[-1][-1].wall_ms - self._gops[0][0].wall_ms
