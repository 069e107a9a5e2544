"""ONVIF events as ARGUS events: one PullPoint subscription per ONVIF camera.

Why management and not the analysis service: management alone holds the cameras' ONVIF
credentials (decrypted from the database), already talks ONVIF (device wrapper, SSRF
checks on service addresses) and stores events; analysis pulls RTSP and never sees ONVIF
hosts or passwords. A camera event is stored through the same ``ingest_event`` as our own
motion, so it raises the same alerts (``/ws/alerts``, webhook) and, through
``argus:events``, opens the same event recordings.

One owner: the process holding the ``onvif-events`` lease (``argus_common.leases.Leader``)
runs the subscriptions, whatever the number of workers and replicas; another takes over
when it dies (the lease's TTL). Every ``MANAGEMENT_ONVIF_EVENTS_RECONCILE_S`` the leader
re-reads the camera list and starts, restarts (address or credentials changed) or stops a
watcher per camera.

A watcher subscribes (60 s), long-polls ``PullMessages`` (5 s), renews at 80 % of the
subscription's life, and after any failure (a camera restart loses its subscriptions, a
timeout, a fault) subscribes again with backoff. A camera without an events service is
asked again every 5 minutes. Messages become ``motion.start``/``.end``,
``tamper.start``/``.end`` and ``input.start``/``.end`` on a change of state only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.errors import ArgusError, Conflict
from argus_common.events import utcnow
from argus_common.leases import Leader, Leases
from argus_common.retry import Backoff, keep_running
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.db import run_after_commit
from argus_management.events.hooks import EventStoredHook
from argus_management.events.schemas import EventIn
from argus_management.events.service import ingest_event
from argus_management.onvif.pool import CameraEndpoint, endpoint_of
from argus_management.onvif.pullpoint import DeviceEvent, EventDevice, parse

log = structlog.get_logger("argus.onvif.events")

TERMINATION_S = 60
PULL_TIMEOUT_S = 5
MESSAGE_LIMIT = 32
RENEW_AT = 0.8
NOT_SUPPORTED_RETRY_S = 300.0
UNSUBSCRIBE_AT_STOP_S = 2.0  # how long a stop waits for a camera to take its Unsubscribe
_BACKOFF = [1.0, 2.0, 5.0, 10.0, 30.0]


@dataclass
class Watcher:
    """The running subscription of one camera."""

    fingerprint: Hashable
    task: asyncio.Task[None]
    states: dict[tuple[str, str], bool] = field(default_factory=dict)


def event_in(camera_id: int, event: DeviceEvent) -> EventIn:
    """The ARGUS event for a camera's state change. Stamped with our clock (cameras'
    clocks are often wrong); the camera's own stamp is kept in the payload."""
    now = utcnow()
    camera_ts = event.utc.isoformat() if event.utc is not None else None
    key = f"{camera_id}|{event.topic}|{event.source}|{camera_ts or now.isoformat()}|{event.state}"
    payload: dict[str, object] = {"source": "onvif", "topic": event.topic, "camera_ts": camera_ts}
    if event.kind == "input":
        payload["input"] = event.source
    return EventIn(
        id="onvif:" + hashlib.sha256(key.encode()).hexdigest()[:40],
        type=f"{event.kind}.{'start' if event.state else 'end'}",
        camera_id=camera_id,
        ts=now,
        severity="warning" if event.state else "info",
        payload=payload,
    )


class OnvifEventWatch:
    """The PullPoint subscriptions of every ONVIF camera, run by one process."""

    def __init__(
        self,
        settings: Settings,
        maker: async_sessionmaker[AsyncSession],
        bus: RedisBus,
        stored: EventStoredHook,
    ) -> None:
        self.settings = settings
        self.maker = maker
        self.bus = bus
        self.stored = stored
        self.interval = settings.onvif_events_reconcile_s
        instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        leases = Leases(
            bus.redis, bus.namespace, "onvif-events", instance, ttl_s=max(3 * self.interval, 15.0)
        )
        self.lease = Leader(leases)
        self.watchers: dict[int, Watcher] = {}
        self.delivered = 0

    async def run(self) -> None:
        """Reconcile every interval while holding the lease; stop everything without it."""

        async def cycles() -> None:
            while True:
                if await self.lease.acquire_or_renew():
                    await self.reconcile()
                else:
                    await self.stop_all()
                await asyncio.sleep(self.interval)

        try:
            await keep_running(
                cycles,
                event="onvif_events_cycle_failed",
                log=log,
                backoff=Backoff(steps=[self.interval]),
            )
        finally:
            await self.stop_all()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.lease.release())

    async def _cameras(self) -> dict[int, CameraEndpoint]:
        async with self.maker() as session:
            rows = (
                await session.scalars(
                    select(Camera).where(Camera.onvif_host.is_not(None), Camera.enabled.is_(True))
                )
            ).all()
        endpoints: dict[int, CameraEndpoint] = {}
        for camera in rows:
            try:
                endpoints[camera.id] = endpoint_of(camera, self.settings.secret_key)
            except ArgusError:
                continue
        return endpoints

    async def reconcile(self) -> None:
        """Start, restart or stop watchers to match the camera list."""
        wanted = await self._cameras()
        for camera_id in [c for c in self.watchers if c not in wanted]:
            await self._stop(camera_id)
        for camera_id, endpoint in wanted.items():
            current = self.watchers.get(camera_id)
            if current is not None and current.fingerprint == endpoint.fingerprint():
                if not current.task.done():
                    continue
            if current is not None:
                await self._stop(camera_id)
            watcher = Watcher(
                endpoint.fingerprint(),
                asyncio.create_task(self._watch(endpoint), name=f"onvif-events-{camera_id}"),
            )
            self.watchers[camera_id] = watcher

    async def _stop(self, camera_id: int) -> None:
        watcher = self.watchers.pop(camera_id, None)
        if watcher is not None:
            watcher.task.cancel()
            await asyncio.gather(watcher.task, return_exceptions=True)

    async def stop_all(self) -> None:
        """Every watcher at once: each says goodbye to its camera for at most
        :data:`UNSUBSCRIBE_AT_STOP_S`, so a shutdown never waits camera after camera."""
        await asyncio.gather(*(self._stop(camera_id) for camera_id in list(self.watchers)))

    def _device(self, endpoint: CameraEndpoint) -> EventDevice:
        return EventDevice(
            endpoint.host,
            endpoint.port,
            endpoint.username,
            endpoint.password,
            connect_timeout_s=endpoint.connect_timeout_s,
            read_timeout_s=endpoint.read_timeout_s,
            allow_foreign_xaddrs=self.settings.onvif_allow_foreign_xaddrs,
        )

    async def _watch(self, endpoint: CameraEndpoint) -> None:
        """Subscribe, pull, renew; after a failure subscribe again (with backoff)."""
        camera_id = endpoint.camera_id
        backoff = Backoff(steps=_BACKOFF)
        device = self._device(endpoint)
        try:
            while True:
                try:
                    await self._subscription(device, camera_id, backoff)
                except Conflict as exc:
                    log.info("onvif_events_not_supported", camera_id=camera_id, error=exc.detail)
                    await asyncio.sleep(NOT_SUPPORTED_RETRY_S)
                except ArgusError as exc:
                    device.reset()
                    delay = backoff.next()
                    log.info(
                        "onvif_events_resubscribe",
                        camera_id=camera_id,
                        error=exc.detail,
                        delay_s=delay,
                    )
                    await asyncio.sleep(delay)
        finally:
            # Best effort: a camera that does not answer drops the subscription itself when
            # its termination time passes.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(min(device.call_timeout_s, UNSUBSCRIBE_AT_STOP_S)):
                    await device.unsubscribe()
            await device.close()

    async def _subscription(self, device: EventDevice, camera_id: int, backoff: Backoff) -> None:
        await device.subscribe(TERMINATION_S)
        log.info("onvif_events_subscribed", camera_id=camera_id)
        renew_at = time.monotonic() + TERMINATION_S * RENEW_AT
        while True:
            if time.monotonic() >= renew_at:
                await device.renew(TERMINATION_S)
                renew_at = time.monotonic() + TERMINATION_S * RENEW_AT
            messages = await device.pull(PULL_TIMEOUT_S, MESSAGE_LIMIT)
            backoff.reset()
            for message in messages:
                event = parse(message)
                if event is not None:
                    await self._deliver(camera_id, event)

    async def _deliver(self, camera_id: int, event: DeviceEvent) -> None:
        watcher = self.watchers.get(camera_id)
        states = watcher.states if watcher is not None else {}
        key = (event.kind, event.source)
        previous = states.get(key)
        states[key] = event.state
        if previous == event.state or (previous is None and event.initial and not event.state):
            return  # no change (or "nothing going on" at subscription time)
        msg = event_in(camera_id, event)
        try:
            async with self.maker() as session:
                await ingest_event(session, self.bus, self.stored, msg)
                await session.commit()
                await run_after_commit(session)
        except ArgusError as exc:  # the camera was deleted meanwhile
            log.info("onvif_event_dropped", camera_id=camera_id, error=exc.detail)
            return
        self.delivered += 1
        log.info("onvif_event", camera_id=camera_id, type=msg.type, topic=event.topic)
