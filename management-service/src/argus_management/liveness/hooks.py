"""What a stored event means for liveness (a listener of ``events.hooks.EventStored``).

Subscribed in the lifespan; called for every newly stored event, inside its transaction:
Redis writes are queued with ``after_commit`` (an event that rolls back leaves no evidence),
alert resolutions happen in the transaction itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus_common.events import utcnow
from argus_management.alerts.rules import RESOLVING_EVENTS, AlertRule, effective_rules
from argus_management.alerts.service import resolve_alerts
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.events.hooks import EventStored
from argus_management.liveness import evidence


def event_listener(settings: Settings) -> Callable[[EventStored], Awaitable[None]]:
    """The listener, reading the alert rules from ``settings`` at each event (they may be
    changed at run time)."""

    async def on_event_stored(stored: EventStored) -> None:
        await record_evidence(stored, effective_rules(settings.alert_rules))

    return on_event_stored


async def record_evidence(stored: EventStored, rules: dict[str, AlertRule]) -> None:
    """Liveness evidence from ``stream.up``/``stream.down``; ``disk.ok``-style events
    resolve the alerts their paired event type raised."""
    session, bus, msg = stored.session, stored.bus, stored.msg
    camera_id = msg.camera_id
    if camera_id is not None and msg.type in evidence.UP_EVENTS:
        # When it was reported, but never in the future (a reporter's clock running ahead
        # must not keep a camera "seen" after it stops).
        ts = min(msg.ts, utcnow()).timestamp()
        reporter = str(msg.payload.get("recorder") or msg.payload.get("service") or "")

        async def seen() -> None:
            await evidence.mark_seen(bus, camera_id, ts, reporter)

        after_commit(session, seen)
    elif camera_id is not None and msg.type in evidence.DOWN_EVENTS:

        async def down() -> None:
            await evidence.mark_down(bus, camera_id)

        after_commit(session, down)
    paired = RESOLVING_EVENTS.get(msg.type)
    rule = rules.get(paired) if paired else None
    if rule is not None:
        await resolve_alerts(
            session, bus, kind=rule.kind, camera_id=camera_id,
            dedupe_key=rule.dedupe_key(msg.payload),
        )
