"""Keeping a service's camera list in step with management: a full reload now and then
(retried until management answers) and each change announced on ``argus:cameras``."""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeVar

import structlog

from argus_common.bus import RedisBus
from argus_common.cameras import Camera
from argus_common.events import CHANNEL_CAMERAS, CameraChanged
from argus_common.retry import Backoff, keep_running

log = structlog.get_logger("argus.cameras")

RETRY_S = 2.0

C = TypeVar("C", bound=Camera)


class CameraSource(Protocol[C]):
    """Where cameras come from (``ManagementClient``)."""

    async def cameras(self) -> list[C]:
        """Every camera."""
        ...

    async def camera(self, camera_id: int) -> C | None:
        """One camera, or None when it does not exist."""
        ...


class CameraTarget(Protocol[C]):
    """What follows the cameras (``Supervisor``)."""

    @property
    def desired(self) -> dict[int, C]:
        """The cameras wanted after the last reload and changes."""
        ...

    def set_cameras(self, cameras: list[C]) -> None:
        """Replace the whole list."""

    async def camera_changed(self, camera_id: int, camera: C | None) -> None:
        """Apply one camera's new configuration (None: deleted)."""


class CameraSync:
    """Runs ``reload_forever`` and ``follow_changes`` for one target."""

    def __init__(
        self, source: CameraSource[C], target: CameraTarget[C], bus: RedisBus, refresh_s: float,
    ) -> None:
        self.source = source
        self.target = target
        self.bus = bus
        self.refresh_s = refresh_s

    async def reload(self) -> None:
        """One full reload; running workers take the new settings."""
        self.target.set_cameras(await self.source.cameras())
        for camera in list(self.target.desired.values()):
            await self.target.camera_changed(camera.id, camera)

    async def reload_forever(self) -> None:
        """Reload every ``refresh_s``; every ``RETRY_S`` while management does not answer."""

        async def periodic() -> None:
            await self.reload()
            await asyncio.sleep(self.refresh_s)

        await keep_running(periodic, event="cameras_unavailable", log=log,
                           backoff=Backoff(steps=[RETRY_S]))

    async def follow_changes(self) -> None:
        """Apply each change published on ``argus:cameras`` (resubscribing after a failure;
        what was missed meanwhile comes with the next full reload)."""
        await keep_running(self._subscription, event="camera_changes_failed", log=log,
                           backoff=Backoff(steps=[RETRY_S]))

    async def _subscription(self) -> None:
        async for _channel, raw in self.bus.subscribe(CHANNEL_CAMERAS):
            try:
                msg = CameraChanged.model_validate_json(raw)
            except ValueError:
                continue
            if msg.camera_id is None:
                continue
            camera = None
            if msg.action != "deleted":
                camera = await self.source.camera(msg.camera_id)
            await self.target.camera_changed(msg.camera_id, camera)
