"""ONVIF discovery and probing: find cameras on the network and describe one before adding it.

Both reach out to addresses the user names, so both are SSRF surfaces: hosts go through the
same checks as camera URLs (no link-local, ``CAMERA_ALLOWED_NETWORKS``), and a probe is
audited (``camera.onvif_probe``, never with the password).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import ArgusError, Unavailable, Unprocessable
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.cameras.urls import CameraUrlError, check_url, parse_networks, pinned_host
from argus_management.onvif import discovery
from argus_management.onvif.capabilities import (
    Capabilities,
    Warnings,
    optional,
    read_capabilities,
)
from argus_management.onvif.device import OnvifDevice
from argus_management.onvif.pool import DEFAULT_ONVIF_PORT
from argus_management.onvif.schemas import (
    CapabilitiesOut,
    DeviceInfoOut,
    DiscoveredOut,
    DiscoverOut,
    DiscoverRequest,
    PresetOut,
    ProbeOut,
    ProbeRequest,
    ProfileOut,
    PtzSupportOut,
)
from argus_management.onvif.types import DiscoveredDevice, MediaProfile, PtzPreset
from argus_management.rbac.principal import Actor


async def check_device_host(
    host: str, port: int, allowed_networks: str, field: str = "host"
) -> str:
    """Refuse hosts a camera URL could not use (422), before any packet is sent; returns the
    checked address to connect to (so a name cannot resolve elsewhere afterwards)."""
    netloc = f"[{host}]" if ":" in host else host
    networks = parse_networks(allowed_networks)
    try:
        await check_url(f"http://{netloc}:{port}/", networks)
        return await pinned_host(host, networks)
    except CameraUrlError as exc:
        raise Unprocessable(f"{field}: {exc}") from None


def _host_port(xaddr: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(xaddr)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else DEFAULT_ONVIF_PORT
    return parts.hostname.lower(), port or default


async def _registered(session: AsyncSession) -> dict[tuple[str, int], int]:
    rows = await session.execute(
        select(Camera.id, Camera.onvif_host, Camera.onvif_port)
        .where(Camera.onvif_host.is_not(None))
    )
    return {
        (str(host).lower(), int(port or DEFAULT_ONVIF_PORT)): int(cid)
        for cid, host, port in rows.all()
    }


def _describe(device: DiscoveredDevice, known: dict[tuple[str, int], int]) -> DiscoveredOut:
    addresses = [a for a in (_host_port(x) for x in device.xaddrs) if a is not None]
    camera_id = next((known[a] for a in addresses if a in known), None)
    first = addresses[0] if addresses else None
    return DiscoveredOut(
        endpoint_reference=device.endpoint_reference, xaddrs=device.xaddrs,
        host=first[0] if first else None, port=first[1] if first else None,
        name=device.scope_value("name"), hardware=device.scope_value("hardware"),
        scopes=device.scopes, address=device.address,
        registered=camera_id is not None, camera_id=camera_id,
    )


async def discover(
    session: AsyncSession, data: DiscoverRequest, allowed_networks: str
) -> DiscoverOut:
    """Probe (multicast, or unicast to ``data.target``) and mark devices already added."""
    target = None
    if data.target is not None:
        address = await check_device_host(
            data.target.host, data.target.port, allowed_networks, "target.host"
        )
        target = (address, data.target.port)
    try:
        found = await discovery.probe(data.timeout_s, target)
    except socket.gaierror:
        raise Unprocessable("target.host does not resolve") from None
    except OSError as exc:
        raise Unavailable(
            f"WS-Discovery probe could not be sent ({exc.strerror or type(exc).__name__}); "
            "multicast needs host networking under Docker, or add the camera by address"
        ) from None
    known = await _registered(session)
    devices = sorted((_describe(d, known) for d in found), key=lambda d: d.xaddrs)
    return DiscoverOut(devices=devices)


def suggest_profiles(profiles: list[MediaProfile]) -> tuple[str | None, str | None]:
    """(main, sub) tokens: the largest picture, and the smallest when it is smaller."""
    if not profiles:
        return None, None
    ordered = sorted(profiles, key=lambda p: p.pixels, reverse=True)
    main, smallest = ordered[0], ordered[-1]
    sub = smallest.token if smallest.pixels < main.pixels else None
    return main.token, sub


async def _ptz_support(
    device: OnvifDevice, profiles: list[MediaProfile], caps: Capabilities, warnings: Warnings
) -> PtzSupportOut:
    token = next((p.token for p in profiles if p.has_ptz), None)
    if token is not None and not caps.ptz:
        warnings.missing("PTZ", "the profile has a PTZ configuration but the camera lists "
                         "no PTZ service")
        token = None
    presets: list[PtzPreset] | None = []
    if token is not None:
        presets = await optional("PTZ presets", device.presets, warnings)
    return PtzSupportOut(
        supported=token is not None, profile=token,
        presets=[PresetOut(token=p.token, name=p.name) for p in presets or []],
        presets_available=presets is not None,
    )


async def _profile_out(device: OnvifDevice, profile: MediaProfile, warnings: Warnings,
                       snapshots: bool) -> ProfileOut:
    stream = await optional(f"stream URI of profile {profile.token!r}",
                            lambda: device.stream_uri(profile.token), warnings)
    snapshot = None
    if snapshots:
        snapshot = await optional(f"snapshot URI of profile {profile.token!r}",
                                  lambda: device.snapshot_uri(profile.token), warnings)
    return ProfileOut(
        token=profile.token, name=profile.name, encoding=profile.encoding,
        width=profile.width, height=profile.height, fps=profile.fps, has_ptz=profile.has_ptz,
        stream_uri=stream, snapshot_uri=snapshot,
    )


async def _describe_device(device: OnvifDevice, data: ProbeRequest) -> ProbeOut:
    caps = await read_capabilities(device)
    warnings = Warnings()
    info = await device.device_info()
    profiles = await device.profiles()
    out_profiles = []
    for profile in profiles:
        # A camera that lacks snapshots lacks them for every profile: ask until one fails.
        snapshots = not any(w.startswith("snapshot URI") for w in warnings)
        out_profiles.append(await _profile_out(device, profile, warnings, snapshots))
    if device.media2_error is not None:
        warnings.missing("Media2 profiles", f"{device.media2_error}; Media1 profiles used")
    if not caps.time:
        warnings.missing("camera clock", "requests are signed in our time")
    for name, offered in (("events", caps.events), ("imaging", caps.imaging)):
        if not offered:
            warnings.missing(name, "the camera lists no such service")
    main, sub = suggest_profiles(profiles)
    return ProbeOut(
        host=data.host, port=data.port,
        device=DeviceInfoOut(**info.__dict__), time_offset_s=device.time_offset_s,
        profiles=out_profiles, main_profile=main, sub_profile=sub,
        ptz=await _ptz_support(device, profiles, caps, warnings),
        capabilities=CapabilitiesOut(media2=caps.media2, ptz=caps.ptz, events=caps.events,
                                     imaging=caps.imaging, time=caps.time),
        warnings=list(warnings),
    )


async def probe(
    session: AsyncSession, maker: async_sessionmaker[AsyncSession], actor: Actor,
    data: ProbeRequest, allowed_networks: str, *, allow_foreign_xaddrs: bool = False,
    camera_id: int | None = None,
) -> ProbeOut:
    """Connect to one ONVIF device and describe it; audited whether it works or not. The
    probe of a registered camera (``camera_id``) is audited on that camera: its form probes
    it each time it opens, so the audit throttle keeps one row a minute per user and camera
    (``audit/throttle.py``)."""
    target_type = "camera" if camera_id is not None else None
    address = await check_device_host(data.host, data.port, allowed_networks)
    summary: dict[str, object] = {"host": data.host, "port": data.port, "username": data.username}
    device = OnvifDevice(
        address, data.port, data.username, data.password,
        connect_timeout_s=data.connect_timeout_s, read_timeout_s=data.read_timeout_s,
        allow_foreign_xaddrs=allow_foreign_xaddrs,
    )
    try:
        result = await _describe_device(device, data)
    except ArgusError as exc:
        await audit.record_detached(
            maker, actor, "camera.onvif_probe", target_type, camera_id,
            summary={**summary, "error": exc.detail},
        )
        raise
    finally:
        await device.close()
    summary["profiles"] = [p.token for p in result.profiles]
    await audit.record(session, actor, "camera.onvif_probe", target_type, camera_id,
                       summary=summary)
    return result
