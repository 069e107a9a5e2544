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
from fastapi import FastAPI

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_CAMERAS, CHANNEL_PTZ
from argus_management.alerts.hub import get_hub
from argus_management.ptz.runtime import get_runtime

log = structlog.get_logger("argus.ptz.watch")


def _camera_id(raw: str) -> int | None:
    try:
        value = json.loads(raw).get("camera_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def run_ptz_watch(app: FastAPI) -> None:
    """Forward ``argus:ptz`` to WebSocket clients; drop devices of changed cameras."""
    runtime = get_runtime(app)
    hub = get_hub(app)
    bus: RedisBus = app.state.bus
    backoff = 0.5
    try:
        while True:
            try:
                async for channel, raw in bus.subscribe(CHANNEL_PTZ, CHANNEL_CAMERAS):
                    backoff = 0.5
                    if channel == CHANNEL_PTZ:
                        hub.dispatch(raw)
                    elif (camera_id := _camera_id(raw)) is not None:
                        runtime.pool.invalidate(camera_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("ptz_subscription_lost", error=type(exc).__name__, retry_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
    finally:
        await runtime.close()


async def run_ptz_sweep(app: FastAPI) -> None:
    """Find expired PTZ locks whose own timer is gone (its process died) and act on them."""
    runtime = get_runtime(app)
    while True:
        await asyncio.sleep(app.state.settings.ptz_sweep_s)
        try:
            await runtime.sweep()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("ptz_sweep_failed", error=type(exc).__name__)
