"""The camera a stream key publishes to: created at the first push, reactivated after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_CAMERAS, CameraChanged, utcnow
from argus_management import versions
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.rbac.models import CameraGrant
from argus_management.rtmp import service as keys
from argus_management.rtmp.models import StreamKey
from argus_management.users.authz import authz_changed


@dataclass
class Registered:
    """The camera now live for a key, or why the push must be refused."""

    camera: Camera
    created: bool
    refusal: tuple[str, str] | None = None  # (reason, detail)


def internal_url(settings: Settings, name: str) -> str:
    """Where the media services pull the stream from nginx-rtmp (never the phone's URL)."""
    host = settings.rtmp_internal_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"rtmp://{host}:{settings.rtmp_port}/live/{name}"


async def _free_name(session: AsyncSession, name: str, key_id: int) -> str:
    """A camera name not taken yet (camera names are unique; users may have used ours)."""
    for candidate in (f"RTMP {name}", f"RTMP {name} ({key_id})",
                      f"RTMP {name} {uuid.uuid4().hex[:8]}"):
        if await session.scalar(select(Camera.id).where(Camera.name == candidate)) is None:
            return candidate
    return f"RTMP {name} {uuid.uuid4().hex}"


async def register_camera(
    session: AsyncSession, bus: RedisBus, settings: Settings, key: StreamKey, name: str,
    owner_id: int,
) -> Registered:
    """Create or reactivate the camera of ``key`` and grant it to ``owner_id``; marks it
    online. A camera an admin disabled, or one of another user, refuses the push."""
    url = internal_url(settings, name)
    camera = await session.get(Camera, key.camera_id) if key.camera_id else None
    if camera is None:
        camera = await keys.named_camera(session, name)
        if camera is not None and camera.owner_id != owner_id:
            return Registered(camera, False, ("name_taken",
                                              "this stream name belongs to another user"))
    created = camera is None
    changed = False
    if camera is None:
        camera = Camera(
            name=await _free_name(session, name, key.id), kind="rtmp", stream_url=url,
            sub_stream_url=None, username=None, password_enc=None, onvif_host=None,
            onvif_port=None, has_ptz=False, enabled=True, recording_mode="events",
            retention_days=30, analysis={}, owner_id=owner_id,
        )
        session.add(camera)
    elif not camera.enabled:
        return Registered(camera, False, ("camera_disabled", "the camera is disabled"))
    elif camera.stream_url != url:  # RTMP_INTERNAL_HOST or RTMP_PORT changed since
        camera.stream_url = url
        changed = True
    camera.status = "online"
    camera.last_seen = utcnow()
    await session.flush()
    key.camera_id = camera.id
    if await session.scalar(select(CameraGrant.id).where(
        CameraGrant.user_id == owner_id, CameraGrant.camera_id == camera.id
    )) is None:
        session.add(CameraGrant(user_id=owner_id, camera_id=camera.id, group_id=None))
        authz_changed(session, bus)
    await session.flush()
    _announce(session, bus, camera.id, "created" if created else "updated" if changed else None)
    return Registered(camera, created)


def _announce(session: AsyncSession, bus: RedisBus, camera_id: int, action: str | None) -> None:
    """After commit: fresh camera caches everywhere; the media services reload the camera
    when it is new or its URL changed (a status change alone needs no reload)."""

    async def publish() -> None:
        await versions.bump(bus, versions.CAMERAS)
        if action is not None:
            await bus.publish(CHANNEL_CAMERAS, CameraChanged(camera_id=camera_id, action=action))

    after_commit(session, publish)
