"""One ``OnvifDevice`` per camera, kept between requests.

Building a device means parsing WSDLs into zeep clients and opening HTTP connection pools,
far more work than a PTZ command, so devices are reused. An entry is replaced when what it
was built from changes: each lookup compares the camera's address, credentials and timeouts
(a fingerprint) with the entry's, and an ``argus:cameras`` message drops the entry at once
(``ptz/watch.py``). A replaced device is closed a little later, once calls still using it
have had their time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import Conflict, NotFound
from argus_management.cameras.crypto import decrypt_secret
from argus_management.cameras.models import Camera
from argus_management.onvif.device import OnvifDevice

_RETIRE_GRACE_S = 1.0
DEFAULT_ONVIF_PORT = 80


@dataclass(frozen=True)
class CameraEndpoint:
    """Where and how to reach one camera's ONVIF device (the password decrypted)."""

    camera_id: int
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 3.0

    def fingerprint(self) -> Hashable:
        """Everything a device is built from; the password only as a hash."""
        secret = hashlib.sha256((self.password or "").encode()).hexdigest()
        return (self.host, self.port, self.username, secret, self.connect_timeout_s,
                self.read_timeout_s)


def endpoint_of(camera: Camera, secret_key: str) -> CameraEndpoint:
    """The ONVIF endpoint of a camera row; 409 when it has no ONVIF address."""
    if not camera.onvif_host:
        raise Conflict("camera has no ONVIF address (onvif_host)")
    return CameraEndpoint(
        camera_id=camera.id,
        host=camera.onvif_host,
        port=camera.onvif_port or DEFAULT_ONVIF_PORT,
        username=camera.username,
        password=decrypt_secret(secret_key, camera.password_enc),
        connect_timeout_s=camera.connect_timeout_s,
        read_timeout_s=camera.read_timeout_s,
    )


async def load_endpoint(
    maker: async_sessionmaker[AsyncSession], secret_key: str, camera_id: int
) -> CameraEndpoint:
    """The endpoint of ``camera_id`` read in a short session of its own (background work)."""
    async with maker() as session:
        camera = await session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera not found")
    return endpoint_of(camera, secret_key)


class DevicePool:
    """The devices of this process, by camera id."""

    def __init__(self, *, allow_foreign_xaddrs: bool = False) -> None:
        self.allow_foreign_xaddrs = allow_foreign_xaddrs
        self._devices: dict[int, tuple[Hashable, OnvifDevice]] = {}
        self._retired: set[OnvifDevice] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, endpoint: CameraEndpoint) -> OnvifDevice:
        """The device for ``endpoint``, built on first use or when the camera changed."""
        fingerprint = endpoint.fingerprint()
        entry = self._devices.get(endpoint.camera_id)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        self.invalidate(endpoint.camera_id)
        device = OnvifDevice(
            endpoint.host, endpoint.port, endpoint.username, endpoint.password,
            connect_timeout_s=endpoint.connect_timeout_s,
            read_timeout_s=endpoint.read_timeout_s,
            allow_foreign_xaddrs=self.allow_foreign_xaddrs,
        )
        self._devices[endpoint.camera_id] = (fingerprint, device)
        return device

    def invalidate(self, camera_id: int) -> None:
        """Forget the camera's device; it is closed once in-flight calls could have ended."""
        entry = self._devices.pop(camera_id, None)
        if entry is None:
            return
        device = entry[1]
        self._retired.add(device)
        delay = device.call_timeout_s + _RETIRE_GRACE_S
        asyncio.get_running_loop().call_later(delay, self._close_later, device)

    def _close_later(self, device: OnvifDevice) -> None:
        if device not in self._retired:
            return
        self._retired.discard(device)
        task = asyncio.create_task(device.close())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._devices)

    async def close(self) -> None:
        """Close every device (at shutdown)."""
        devices = [d for _, d in self._devices.values()] + list(self._retired)
        self._devices.clear()
        self._retired.clear()
        for device in devices:
            with contextlib.suppress(Exception):
                await device.close()
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
