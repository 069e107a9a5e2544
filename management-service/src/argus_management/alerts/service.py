"""Alerts: raising them (from events, camera health …), listing, acknowledging, resolving.

Every state change is published on ``argus:alerts`` once its transaction has committed, so a
WebSocket client (or the webhook, ``notify/``, a subscriber too) never sees an alert that
then rolls back. ``raise_alert`` and
``resolve_alerts`` queue that publication with ``db.after_commit``: request handlers get it
run by ``get_session``; a background task that owns its session must call
``db.run_after_commit(session)`` after its own commit.
"""

from __future__ import annotations

from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict, NotFound
from argus_common.events import CHANNEL_ALERTS, AlertMessage, utcnow
from argus_management.alerts.models import Alert
from argus_management.alerts.rules import Severity
from argus_management.alerts.schemas import AlertFilters
from argus_management.audit.service import record
from argus_management.db import after_commit
from argus_management.events.visibility import visible_cameras
from argus_management.pagination import PageParams
from argus_management.rbac.principal import Actor, Principal

log = structlog.get_logger("argus.alerts")

ALERTS_TOTAL = Counter("argus_alerts_total", "Alerts raised, by kind", ["kind"])


def alert_message(alert: Alert) -> AlertMessage:
    """The ``argus:alerts`` message announcing ``alert`` in its current state."""
    ts = {"acked": alert.acked_at, "resolved": alert.resolved_at}.get(alert.state)
    return AlertMessage(
        type=f"alert.{alert.kind}",
        camera_id=alert.camera_id,
        ts=ts or alert.created_at,
        alert_id=alert.id,
        kind=alert.kind,
        severity=alert.severity,  # type: ignore[arg-type,unused-ignore]  # stored from a Literal
        state=alert.state,  # type: ignore[arg-type,unused-ignore]
        title=alert.title,
        detail=alert.detail,
        event_id=alert.event_id,
        payload=alert.payload,
    )


def publish_after_commit(session: AsyncSession, bus: RedisBus, alert: Alert) -> None:
    """Publish ``alert`` as it is now once the session's transaction commits."""
    message = alert_message(alert)

    async def publish() -> None:
        try:
            await bus.publish(CHANNEL_ALERTS, message)
        except Exception:
            # Pub/sub is live-only: the alert row is committed and listed by the REST API.
            log.exception("alert_publish_failed", alert_id=alert.id, state=alert.state)

    after_commit(session, publish)


async def raise_alert(
    session: AsyncSession,
    bus: RedisBus,
    *,
    kind: str,
    title: str,
    severity: Severity = "warning",
    camera_id: int | None = None,
    event_id: int | None = None,
    detail: str = "",
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Alert:
    """Create an open alert in the caller's transaction and publish it after commit.

    ``camera_id=None`` makes a system alert, shown only to principals who see every camera.
    With ``dedupe_key`` (stored as ``payload["dedupe_key"]``), an open or acked alert of the
    same kind, camera and key is returned instead of raising a second one: one alert per
    ongoing condition (a camera offline, a recorder down, a disk low).
    """
    if dedupe_key is not None:
        existing = await _open_alerts(session, kind, camera_id, dedupe_key)
        if existing:
            return existing[0]
        payload = {**(payload or {}), "dedupe_key": dedupe_key}
    alert = Alert(
        kind=kind,
        severity=severity,
        state="open",
        camera_id=camera_id,
        event_id=event_id,
        title=title[:256],
        detail=detail[:2048],
        payload=payload or {},
        created_at=utcnow(),
        acked_at=None,
        acked_by=None,
        resolved_at=None,
    )
    session.add(alert)
    await session.flush()

    async def count() -> None:
        ALERTS_TOTAL.labels(kind).inc()

    after_commit(session, count)
    publish_after_commit(session, bus, alert)
    return alert


async def _open_alerts(
    session: AsyncSession, kind: str, camera_id: int | None, dedupe_key: str | None = None,
    *, for_update: bool = False,
) -> list[Alert]:
    """Open or acked alerts of ``kind`` for ``camera_id`` (and ``dedupe_key``, if given)."""
    camera_match = Alert.camera_id.is_(None) if camera_id is None else Alert.camera_id == camera_id
    stmt = select(Alert).where(Alert.kind == kind, camera_match, Alert.state.in_(("open", "acked")))
    if for_update:
        stmt = stmt.with_for_update()
    alerts = list(await session.scalars(stmt))
    if dedupe_key is None:
        return alerts
    # Filtered here rather than in SQL: JSON operators differ between PostgreSQL and SQLite,
    # and a condition has few open alerts.
    return [a for a in alerts if (a.payload or {}).get("dedupe_key") == dedupe_key]


async def resolve_alerts(
    session: AsyncSession, bus: RedisBus, *, kind: str, camera_id: int | None,
    dedupe_key: str | None = None,
) -> list[Alert]:
    """Resolve the open or acked alerts of ``kind`` for ``camera_id`` (the condition is
    over, e.g. a camera back online); each is published as resolved after commit. With
    ``dedupe_key``, only the alerts raised with that key are resolved."""
    alerts = await _open_alerts(session, kind, camera_id, dedupe_key, for_update=True)
    now = utcnow()
    for alert in alerts:
        alert.state = "resolved"
        alert.resolved_at = now
    await session.flush()
    for alert in alerts:
        publish_after_commit(session, bus, alert)
    return alerts


async def list_alerts(
    session: AsyncSession, principal: Principal, filters: AlertFilters, page: PageParams
) -> tuple[list[Alert], int]:
    """A page of the alerts ``principal`` may see, newest first, and the total count."""
    conditions = [visible_cameras(Alert.camera_id, principal)]
    if filters.state is not None:
        conditions.append(Alert.state == filters.state)
    if filters.kind is not None:
        conditions.append(Alert.kind == filters.kind)
    if filters.camera_id is not None:
        conditions.append(Alert.camera_id == filters.camera_id)
    if filters.severity is not None:
        conditions.append(Alert.severity == filters.severity)
    total = await session.scalar(select(func.count()).select_from(Alert).where(*conditions))
    rows = await session.scalars(
        select(Alert)
        .where(*conditions)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return list(rows), int(total or 0)


async def get_alert(
    session: AsyncSession, principal: Principal, alert_id: int, *, for_update: bool = False
) -> Alert:
    """The alert ``alert_id`` if ``principal`` may see it; 404 otherwise."""
    stmt = select(Alert).where(Alert.id == alert_id)
    if for_update:
        stmt = stmt.with_for_update()
    alert: Alert | None = await session.scalar(stmt)
    if alert is None or not principal.may_see_camera(alert.camera_id):
        raise NotFound("alert not found")
    return alert


async def ack_alert(
    session: AsyncSession, bus: RedisBus, principal: Principal, actor: Actor, alert_id: int
) -> Alert:
    """Acknowledge an open alert (audited ``alert.ack``); 409 if it is not open."""
    # Row lock: two operators acking at once get one success and one 409.
    alert = await get_alert(session, principal, alert_id, for_update=True)
    if alert.state != "open":
        raise Conflict(f"alert is already {alert.state}")
    alert.state = "acked"
    alert.acked_at = utcnow()
    alert.acked_by = principal.user_id
    await session.flush()
    await record(
        session, actor, "alert.ack", "alert", alert.id,
        {"kind": alert.kind, "camera_id": alert.camera_id},
    )
    publish_after_commit(session, bus, alert)
    return alert
