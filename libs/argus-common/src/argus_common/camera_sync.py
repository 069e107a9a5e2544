"""Keeping a service's camera list in step with management: a full reload now and then
(retried until management answers) and each change announced on ``argus:cameras``.

With a ``CameraCache`` the last list management gave is kept on disk, so a service started
while management is down works from what it had before (and goes back to management's
list as soon as it answers). The file holds camera credentials: it is written with mode
0600, next to the data it belongs to (recording: under ``RECORDINGS_DIR/.argus``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

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


class CameraCache(Generic[C]):
    """The last camera list, as JSON in one file (atomic replace, fsynced, mode 0600)."""

    def __init__(self, path: Path, model: type[C]) -> None:
        self.path = path
        self.model = model

    def save(self, cameras: list[C]) -> None:
        """Replace the file with ``cameras`` (blocking: call it off the loop)."""
        body = json.dumps({"saved_at": time.time(),
                           "cameras": [dataclasses.asdict(c) for c in cameras]})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def load(self) -> tuple[list[C], float] | None:
        """The cached cameras and when they were saved, or None (no usable file)."""
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            cameras = [self.model.from_api(item) for item in data["cameras"]]
            return cameras, float(data.get("saved_at", 0.0))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("camera_cache_unreadable", error=type(exc).__name__)
            return None


class CameraSync:
    """Runs ``reload_forever`` and ``follow_changes`` for one target."""

    def __init__(
        self, source: CameraSource[C], target: CameraTarget[C], bus: RedisBus, refresh_s: float,
        cache: CameraCache[C] | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.bus = bus
        self.refresh_s = refresh_s
        self.cache = cache
        self.from_cache = False
        self._answered = False

    async def reload(self) -> None:
        """One full reload; running workers take the new settings. Until management has
        answered once, a failure falls back to the cached list (once)."""
        try:
            cameras = await self.source.cameras()
        except Exception:
            if not self._answered and not self.from_cache and self.cache is not None:
                await self._load_cache()
            raise
        self._answered = True
        self.from_cache = False
        self.target.set_cameras(cameras)
        for camera in list(self.target.desired.values()):
            await self.target.camera_changed(camera.id, camera)
        if self.cache is not None:
            try:
                await asyncio.to_thread(self.cache.save, cameras)
            except OSError as exc:  # a full disk: the list in memory is what counts
                log.warning("camera_cache_not_saved", error=type(exc).__name__)

    async def _load_cache(self) -> None:
        assert self.cache is not None
        cached = await asyncio.to_thread(self.cache.load)
        if cached is None:
            return
        cameras, saved_at = cached
        self.from_cache = True
        self.target.set_cameras(cameras)
        log.warning("cameras_from_cache", cameras=len(cameras),
                    age_s=round(max(0.0, time.time() - saved_at)))

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
