"""The per-camera liveness state machine, with hysteresis.

A camera goes offline only after ``offline_after`` failed checks in a row and comes back
online after one success. A camera that drops a single check (a reboot blip, a lost packet)
therefore never changes status, and a camera flapping faster than the check interval does
not produce a stream of alerts. Pure code: no I/O, unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Status = Literal["unknown", "online", "offline"]
STATUSES: tuple[Status, ...] = ("unknown", "online", "offline")


@dataclass(frozen=True)
class Transition:
    """A status change decided by :meth:`CameraLiveness.observe`."""

    camera_id: int
    old: Status
    new: Status


@dataclass
class CameraLiveness:
    """What the checker remembers about one camera between cycles.

    ``status`` is reloaded from the database every cycle (the row is the truth, and it may
    have been changed by another leader); ``failures`` lives only in the checker's memory.
    """

    camera_id: int
    status: Status = "unknown"
    failures: int = 0
    offline_since: datetime | None = None

    def observe(self, success: bool, offline_after: int, now: datetime) -> Transition | None:
        """Feed one check result; returns the transition it causes, if any."""
        if success:
            self.failures = 0
            if self.status != "online":
                old: Status = self.status
                self.status = "online"
                self.offline_since = None
                return Transition(self.camera_id, old, "online")
            return None
        self.failures += 1
        if self.failures >= offline_after and self.status != "offline":
            old = self.status
            self.status = "offline"
            self.offline_since = now
            return Transition(self.camera_id, old, "offline")
        return None


def coerce_status(value: str | None) -> Status:
    """A stored status string as a :data:`Status` (anything unexpected counts as unknown)."""
    if value == "online":
        return "online"
    if value == "offline":
        return "offline"
    return "unknown"
