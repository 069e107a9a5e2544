"""Background tasks of the PTZ domain.

- ``run_ptz_watch``: one subscription per process to ``argus:ptz`` and ``argus:cameras``.
  Lock changes go to the ``/ws/alerts`` hub, which hands them (``type: ptz.lock``) to the
  clients allowed to see the camera; camera changes drop that camera's cached ONVIF device.
- ``run_ptz_sweep``: every ``MANAGEMENT_PTZ_SWEEP_S``, the expiry check of every known lock
  (see ``ptz/runtime.py`` for why a sweep and not keyspace notifications).
"""

from __future__ import annotations

import asyncio
import json

import structlog

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_CAMERAS, CHANNEL_PTZ
from argus_common.retry import Backoff, keep_running
from argus_management.alerts.hub import AlertHub
from argus_management.ptz.runtime import PtzRuntime

log = structlog.get_logger("argus.ptz.watch")


def _camera_id(raw: str) -> int | None:
    try:
        value = json.loads(raw).get("camera_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def run_ptz_watch(bus: RedisBus, runtime: PtzRuntime, hub: AlertHub) -> None:
    """Forward ``argus:ptz`` to WebSocket clients; drop devices of changed cameras."""
    backoff = Backoff(0.5, 10.0)

    async def follow() -> None:
        async for channel, raw in bus.subscribe(CHANNEL_PTZ, CHANNEL_CAMERAS):
            backoff.reset()
            if channel == CHANNEL_PTZ:
                hub.dispatch(raw)
            elif (camera_id := _camera_id(raw)) is not None:
                runtime.pool.invalidate(camera_id)

    try:
        await keep_running(follow, event="ptz_subscription_lost", backoff=backoff, log=log)
    finally:
        await runtime.close()


async def run_ptz_sweep(runtime: PtzRuntime) -> None:
    """Find expired PTZ locks whose own timer is gone (its process died) and act on them,
    every ``MANAGEMENT_PTZ_SWEEP_S``; a failed sweep is logged and tried one period later."""
    period = runtime.settings.ptz_sweep_s

    async def sweep_forever() -> None:
        while True:
            await runtime.sweep()
            await asyncio.sleep(period)

    await asyncio.sleep(period)  # nothing can have expired unseen at start-up
    await keep_running(sweep_forever, event="ptz_sweep_failed", log=log,
                       backoff=Backoff(steps=[period]))
