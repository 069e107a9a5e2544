"""Alarm pushes: a listener of stored events (subscribed in the lifespan after the alert
rules). An event whose alert rule raises an alert of a kind a monitor lists in its
``alarm_kinds`` (or ``*``) puts the event's camera on that monitor, in the event's
transaction, audited as ``wall.alarm_push``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select

from argus_management.alerts.rules import effective_rules
from argus_management.config import Settings
from argus_management.events.hooks import EventStored
from argus_management.rbac.principal import Actor
from argus_management.walls import service as svc
from argus_management.walls.models import WallMonitor
from argus_management.walls.schemas import ContentSource, MonitorContent


def alarm_listener(settings: Settings) -> Callable[[EventStored], Awaitable[None]]:
    async def push_alarm(stored: EventStored) -> None:
        camera = stored.camera
        rule = effective_rules(settings.alert_rules).get(stored.msg.type)
        if rule is None or camera is None:
            return
        monitors = await stored.session.scalars(
            select(WallMonitor).where(WallMonitor.alarm_kinds != "").order_by(WallMonitor.id)
        )
        actor = Actor(user_id=None, username=f"alarm {rule.kind}"[:64], ip=None, user_agent=None)
        for monitor in monitors:
            kinds = monitor.alarm_kinds.split(",")
            if rule.kind not in kinds and "*" not in kinds:
                continue
            content = MonitorContent(
                cells=[camera.id],
                source=ContentSource(
                    kind="alarm", id=camera.id, name=f"{rule.title}: {camera.name}"
                ),
            )
            await svc.put_content(
                stored.session, stored.bus, monitor, content, actor, "wall.alarm_push"
            )

    return push_alarm
