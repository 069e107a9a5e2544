"""Filling a new camera from its ONVIF device: ``POST /api/v1/cameras`` with ``onvif_host``.

With ``onvif_profile``, the stream URLs come from the camera's ``GetStreamUri`` (userinfo
stripped; the caller then checks them like any submitted URL). ``has_ptz``, unless the
request sets it, is asked of the device whenever the camera has an ONVIF host: a profile
with a PTZ configuration on a device that lists a PTZ service. Only what registration needs
(the main profile's stream) may fail it; the sub-stream URI and the PTZ question degrade to
"not available" with a logged warning.
"""

from __future__ import annotations

import structlog

from argus_common.errors import ArgusError, Unprocessable
from argus_management.cameras.schemas import CameraCreate
from argus_management.onvif.capabilities import Warnings, optional, read_capabilities
from argus_management.onvif.device import OnvifDevice
from argus_management.onvif.pool import DEFAULT_ONVIF_PORT
from argus_management.onvif.service import check_device_host

log = structlog.get_logger("argus.onvif")


async def _from_profiles(device: OnvifDevice, data: CameraCreate) -> dict[str, object]:
    caps = await read_capabilities(device)
    profiles = {p.token: p for p in await device.profiles()}
    main = profiles.get(data.onvif_profile or "")
    if main is None:
        raise Unprocessable(f"onvif_profile: the camera has no profile {data.onvif_profile!r}")
    update: dict[str, object] = {
        "stream_url": await device.stream_uri(main.token), "has_ptz": main.has_ptz and caps.ptz,
    }
    if data.onvif_sub_profile is not None:
        sub = profiles.get(data.onvif_sub_profile)
        if sub is None:
            raise Unprocessable(
                f"onvif_sub_profile: the camera has no profile {data.onvif_sub_profile!r}"
            )
        warnings = Warnings()
        uri = await optional("sub-stream URI", lambda: device.stream_uri(sub.token), warnings)
        if uri is not None:
            update["sub_stream_url"] = uri
    return update


async def _ptz_only(device: OnvifDevice) -> dict[str, object]:
    """``has_ptz`` of a camera registered by URL: asked of the device, False when it cannot
    be asked (the camera is still added; its PTZ can be switched on later)."""
    try:
        caps = await read_capabilities(device)
        has_ptz = caps.ptz and any(p.has_ptz for p in await device.profiles())
    except ArgusError as exc:
        log.warning("onvif_ptz_unknown", host=device.host, error=exc.detail)
        return {}
    return {"has_ptz": has_ptz}


async def fill_from_profile(
    data: CameraCreate, allowed_networks: str, *, allow_foreign_xaddrs: bool = False
) -> CameraCreate:
    """``data`` with stream_url, sub_stream_url and has_ptz taken from its ONVIF device."""
    if not data.onvif_host:
        raise Unprocessable("onvif_profile needs onvif_host (and onvif_port)")
    if data.onvif_profile is None and "has_ptz" in data.model_fields_set:
        return data  # nothing to ask the device
    port = data.onvif_port or DEFAULT_ONVIF_PORT
    address = await check_device_host(data.onvif_host, port, allowed_networks, "onvif_host")
    device = OnvifDevice(
        address, port, data.username, data.password,
        connect_timeout_s=data.connect_timeout_s, read_timeout_s=data.read_timeout_s,
        allow_foreign_xaddrs=allow_foreign_xaddrs,
    )
    try:
        if data.onvif_profile is None:
            update = await _ptz_only(device)
        else:
            update = await _from_profiles(device, data)
    finally:
        await device.close()
    return data.model_copy(update=update)
