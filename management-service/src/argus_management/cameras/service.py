"""Camera configuration: create, change, delete, list; every change audited and announced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict, Unprocessable
from argus_common.events import CHANNEL_CAMERAS, CameraChanged
from argus_management import versions
from argus_management.audit import service as audit
from argus_management.cameras.crypto import decrypt_secret, encrypt_secret
from argus_management.cameras.models import Camera, DeletedCamera
from argus_management.cameras.schemas import (
    AnalysisSettings,
    CameraCreate,
    CameraInternal,
    CameraOut,
    CameraUpdate,
)
from argus_management.cameras.urls import (
    CameraUrlError,
    check_host,
    check_url,
    parse_networks,
    split_userinfo,
    url_host,
)
from argus_management.db import after_commit
from argus_management.rbac.principal import Actor, Principal

_URL_FIELDS = ("stream_url", "sub_stream_url")


def to_out(camera: Camera) -> CameraOut:
    """The public view of a camera (no password, URLs without userinfo)."""
    try:
        analysis = AnalysisSettings.model_validate(camera.analysis or {})
    except ValueError:
        analysis = AnalysisSettings()
    return CameraOut(
        id=camera.id, name=camera.name, kind=camera.kind, stream_url=camera.stream_url,
        sub_stream_url=camera.sub_stream_url, username=camera.username,
        has_password=camera.password_enc is not None, onvif_host=camera.onvif_host,
        onvif_port=camera.onvif_port, has_ptz=camera.has_ptz, enabled=camera.enabled,
        recording_mode=camera.recording_mode, retention_days=camera.retention_days,
        tier_after_hours=camera.tier_after_hours, analysis=analysis,
        connect_timeout_s=camera.connect_timeout_s, read_timeout_s=camera.read_timeout_s,
        status=camera.status, last_seen=camera.last_seen,
        created_at=camera.created_at, updated_at=camera.updated_at,
    )


def to_internal(camera: Camera, secret_key: str) -> CameraInternal:
    """The media services' view: the decrypted password included."""
    return CameraInternal(
        **to_out(camera).model_dump(), password=decrypt_secret(secret_key, camera.password_enc)
    )


async def _checked_urls(values: dict[str, Any], allowed_networks: str) -> dict[str, Any]:
    """Validate URLs (hosts resolved and checked); move userinfo found in a URL into
    username/password."""
    networks = parse_networks(allowed_networks)
    for field in _URL_FIELDS:
        url = values.get(field)
        if url is None:
            continue
        try:
            await check_url(url, networks)
        except CameraUrlError as exc:
            raise Unprocessable(f"{field}: {exc}") from None
        clean, user, password = split_userinfo(url)
        values[field] = clean
        if user is not None and values.get("username") is None:
            values["username"] = user
        if password is not None and values.get("password") is None:
            values["password"] = password
    host = values.get("onvif_host")
    if host:
        try:
            await check_host(host, networks)
        except CameraUrlError as exc:
            raise Unprocessable(f"onvif_host: {exc}") from None
    return values


def credential_hosts(stream_url: str | None, sub_stream_url: str | None,
                     onvif_host: str | None) -> set[str]:
    """The hosts a camera's credentials are sent to (lower case)."""
    hosts = {url_host(u) for u in (stream_url, sub_stream_url) if u}
    if onvif_host:
        hosts.add(onvif_host.strip("[]").lower())
    return {h for h in hosts if h}


def _check_password_follows_host(camera: Camera, values: dict[str, Any]) -> None:
    """422 when a change sends the stored password to a host it was not meant for.

    The liveness probe, the ONVIF client and the media services all present the stored
    password to the camera's hosts; whoever can only edit the URL must not be able to
    collect it. A new host needs the password again, or ``password: null`` to drop it.
    """
    if camera.password_enc is None or "password" in values:
        return
    before = credential_hosts(camera.stream_url, camera.sub_stream_url, camera.onvif_host)
    after = credential_hosts(
        values.get("stream_url", camera.stream_url),
        values.get("sub_stream_url", camera.sub_stream_url),
        values.get("onvif_host", camera.onvif_host),
    )
    if after - before:
        raise Unprocessable(
            "password: required when the camera's host changes (send the password again, "
            "or null to clear the stored one)"
        )


def _announce(session: AsyncSession, bus: RedisBus, camera_id: int, action: str) -> None:
    async def publish() -> None:
        await versions.bump(bus, versions.CAMERAS)
        await bus.publish(CHANNEL_CAMERAS, CameraChanged(camera_id=camera_id, action=action))

    after_commit(session, publish)


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a camera named {name!r} already exists") from None


# Fills stream URLs and has_ptz from a camera's ONVIF profiles (``onvif.registration``): the
# lifespan binds it, so that this domain does not import the ONVIF one.
ProfileFiller = Callable[[CameraCreate, str], Awaitable[CameraCreate]]


async def create_camera(
    session: AsyncSession, bus: RedisBus, secret_key: str, allowed_networks: str,
    data: CameraCreate, actor: Actor, *, fill_from_profile: ProfileFiller | None = None,
) -> Camera:
    """Add a camera (a request with ``onvif_profile`` needs ``fill_from_profile``)."""
    if data.onvif_profile is not None or (data.onvif_host and fill_from_profile is not None):
        # An ONVIF camera's streams and PTZ come from the device (onvif/registration.py).
        if fill_from_profile is None:
            raise Unprocessable("onvif_profile is not supported here")
        data = await fill_from_profile(data, allowed_networks)
    values = await _checked_urls(
        data.model_dump(exclude={"onvif_profile", "onvif_sub_profile"}), allowed_networks
    )
    password = values.pop("password", None)
    camera = Camera(**values, kind="onvif" if values.get("onvif_host") else "rtsp")
    camera.password_enc = encrypt_secret(secret_key, password) if password else None
    if await session.scalar(select(Camera.id).where(Camera.name == data.name)):
        raise Conflict(f"a camera named {data.name!r} already exists")
    session.add(camera)
    await _flush_unique(session, data.name)
    await audit.record(session, actor, "camera.create", "camera", camera.id, values)
    _announce(session, bus, camera.id, "created")
    return camera


async def update_camera(
    session: AsyncSession, bus: RedisBus, secret_key: str, allowed_networks: str,
    camera: Camera, data: CameraUpdate, actor: Actor,
) -> Camera:
    values = await _checked_urls(data.model_dump(exclude_unset=True), allowed_networks)
    for field in ("name", "stream_url", "enabled", "has_ptz", "recording_mode",
                  "retention_days", "connect_timeout_s", "read_timeout_s"):
        if field in values and values[field] is None:
            raise Unprocessable(f"{field} may not be null")
    _check_password_follows_host(camera, values)
    for field, value in values.items():
        if field == "password":
            camera.password_enc = encrypt_secret(secret_key, value) if value else None
        else:
            setattr(camera, field, value)
    if "onvif_host" in values and camera.kind != "rtmp":
        camera.kind = "onvif" if camera.onvif_host else "rtsp"
    await _flush_unique(session, camera.name)
    await audit.record(session, actor, "camera.update", "camera", camera.id, values)
    _announce(session, bus, camera.id, "updated")
    return camera


async def delete_camera(
    session: AsyncSession, bus: RedisBus, camera: Camera, actor: Actor
) -> None:
    """Delete a camera. Its recordings stay, under its id (never reused), visible to
    administrators and purged by retention after the camera's ``retention_days``
    (``DeletedCamera``); its events, grants and analysis results go with it."""
    await audit.record(
        session, actor, "camera.delete", "camera", camera.id,
        {"name": camera.name, "recordings": "kept until retention",
         "retention_days": camera.retention_days},
    )
    session.add(DeletedCamera(
        id=camera.id, name=camera.name, retention_days=camera.retention_days,
        deleted_by=actor.user_id,
    ))
    await session.delete(camera)
    await session.flush()
    _announce(session, bus, camera.id, "deleted")


async def list_cameras(
    session: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[Sequence[Camera], int]:
    """Cameras the principal may see, by id, one page of them and the total."""
    query = select(Camera)
    count = select(func.count()).select_from(Camera)
    if not principal.sees_all_cameras:
        ids = list(principal.camera_ids)
        query = query.where(Camera.id.in_(ids))
        count = count.where(Camera.id.in_(ids))
    rows = (await session.scalars(query.order_by(Camera.id).limit(limit).offset(offset))).all()
    return rows, int(await session.scalar(count) or 0)


async def all_cameras(session: AsyncSession) -> Sequence[Camera]:
    return (await session.scalars(select(Camera).order_by(Camera.id))).all()
