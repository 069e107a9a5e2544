"""The alert rules as a listener of stored events (subscribed in the lifespan): an event
whose type has a rule raises that rule's alert, in the event's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus_management.alerts.rules import effective_rules
from argus_management.alerts.service import raise_alert
from argus_management.config import Settings
from argus_management.events.hooks import EventStored


def event_listener(settings: Settings) -> Callable[[EventStored], Awaitable[None]]:
    """The listener, reading ``MANAGEMENT_ALERT_RULES`` from ``settings`` at each event (they
    may be changed at run time)."""

    async def raise_for_rule(stored: EventStored) -> None:
        msg, camera = stored.msg, stored.camera
        rule = effective_rules(settings.alert_rules).get(msg.type)
        if rule is None:
            return
        await raise_alert(
            stored.session,
            stored.bus,
            kind=rule.kind,
            severity=rule.severity,
            title=rule.title,
            detail=f"{rule.title} on {camera.name}" if camera else rule.title,
            camera_id=msg.camera_id,
            event_id=stored.event.id,
            payload={"event_type": msg.type, "camera_name": camera.name if camera else None},
            dedupe_key=rule.dedupe_key(msg.payload),
        )

    return raise_for_rule
