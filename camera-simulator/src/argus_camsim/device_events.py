"""Events a virtual camera raises (motion, tampering, digital inputs) and the PullPoint
subscriptions that collect them.

The control API raises events (``POST /events/camN``); the ONVIF events service
(``onvif/events.py``) hands them to clients through PullPoint subscriptions. Everything runs
on the simulator's one event loop, so plain asyncio primitives suffice. A reboot (the camera
going offline) loses every subscription, as a real camera's does.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Topic name in the control API -> (ONVIF topic, data item name, source item name).
TOPICS: dict[str, tuple[str, str, str]] = {
    "motion": (
        "tns1:RuleEngine/CellMotionDetector/Motion",
        "IsMotion",
        "VideoSourceConfigurationToken",
    ),
    "tamper": (
        "tns1:RuleEngine/TamperDetector/Tamper",
        "IsTamper",
        "VideoSourceConfigurationToken",
    ),
    "input": ("tns1:Device/Trigger/DigitalInput", "LogicalState", "InputToken"),
}
MAX_SUBSCRIPTIONS = 16
MAX_QUEUED = 256  # per subscription; the oldest go first when a client stops pulling
MAX_TERMINATION_S = 3600.0


@dataclass(frozen=True)
class DeviceEvent:
    """One state change of a topic."""

    topic: str  # key of TOPICS
    state: bool
    source: str  # the source token: video source configuration or input
    utc: datetime


@dataclass
class Subscription:
    """One PullPoint subscription: its queue and when it ends (monotonic seconds)."""

    sid: str
    expires_at: float
    queue: deque[DeviceEvent] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED))
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def remaining_s(self) -> float:
        return self.expires_at - time.monotonic()


class DeviceEvents:
    """The event source of one camera and its subscriptions."""

    def __init__(self) -> None:
        self._subs: dict[str, Subscription] = {}
        self._ids = itertools.count(1)
        self.raised = 0

    def _prune(self) -> None:
        for sid in [s.sid for s in self._subs.values() if s.remaining_s() <= 0]:
            del self._subs[sid]

    def subscribe(self, duration_s: float) -> Subscription | None:
        """A new subscription lasting ``duration_s``; None when there are too many."""
        self._prune()
        if len(self._subs) >= MAX_SUBSCRIPTIONS:
            return None
        sid = f"sub{next(self._ids)}"
        sub = Subscription(sid, time.monotonic() + min(duration_s, MAX_TERMINATION_S))
        self._subs[sid] = sub
        return sub

    def get(self, sid: str) -> Subscription | None:
        self._prune()
        return self._subs.get(sid)

    def renew(self, sid: str, duration_s: float) -> Subscription | None:
        sub = self.get(sid)
        if sub is not None:
            sub.expires_at = time.monotonic() + min(duration_s, MAX_TERMINATION_S)
        return sub

    def unsubscribe(self, sid: str) -> bool:
        sub = self._subs.pop(sid, None)
        if sub is not None:
            sub.wakeup.set()
        return sub is not None

    def reboot(self) -> None:
        """Forget every subscription (the camera restarted)."""
        for sub in self._subs.values():
            sub.wakeup.set()
        self._subs.clear()

    def raise_event(self, topic: str, state: bool, source: str) -> DeviceEvent:
        """Queue an event for every live subscription."""
        event = DeviceEvent(topic, state, source, datetime.now(UTC))
        self._prune()
        for sub in self._subs.values():
            sub.queue.append(event)
            sub.wakeup.set()
        self.raised += 1
        return event

    @property
    def subscriptions(self) -> int:
        self._prune()
        return len(self._subs)

    async def pull(self, sid: str, timeout_s: float, limit: int) -> list[DeviceEvent] | None:
        """Up to ``limit`` events, waiting at most ``timeout_s`` for the first one; None
        when the subscription does not exist (any more)."""
        sub = self.get(sid)
        if sub is None:
            return None
        if not sub.queue:
            sub.wakeup.clear()
            try:
                async with asyncio.timeout(max(0.0, timeout_s)):
                    await sub.wakeup.wait()
            except TimeoutError:
                pass
            if self._subs.get(sid) is not sub:
                return None
        events: list[DeviceEvent] = []
        while sub.queue and len(events) < limit:
            events.append(sub.queue.popleft())
        return events
