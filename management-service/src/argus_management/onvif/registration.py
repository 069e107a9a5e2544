"""Adding a camera straight from a probe: ``POST /api/v1/cameras`` with ``onvif_profile``.

The stream URLs come from the camera's ``GetStreamUri`` (userinfo stripped; the caller then
checks them like any submitted URL) and ``has_ptz`` from the main profile's PTZ
configuration, so the row matches what the camera serves.
"""

from __future__ import annotations

from argus_common.errors import Unprocessable
from argus_management.cameras.schemas import CameraCreate
from argus_management.onvif.device import OnvifDevice
from argus_management.onvif.pool import DEFAULT_ONVIF_PORT
from argus_management.onvif.service import check_device_host


async def fill_from_profile(
    data: CameraCreate, allowed_networks: str, *, allow_foreign_xaddrs: bool = False
) -> CameraCreate:
    """``data`` with stream_url, sub_stream_url and has_ptz taken from its ONVIF profiles."""
    if not data.onvif_host or data.onvif_profile is None:
        raise Unprocessable("onvif_profile needs onvif_host (and onvif_port)")
    port = data.onvif_port or DEFAULT_ONVIF_PORT
    address = await check_device_host(data.onvif_host, port, allowed_networks, "onvif_host")
    device = OnvifDevice(
        address, port, data.username, data.password,
        connect_timeout_s=data.connect_timeout_s, read_timeout_s=data.read_timeout_s,
        allow_foreign_xaddrs=allow_foreign_xaddrs,
    )
    try:
        profiles = {p.token: p for p in await device.profiles()}
        main = profiles.get(data.onvif_profile)
        if main is None:
            raise Unprocessable(f"onvif_profile: the camera has no profile {data.onvif_profile!r}")
        update: dict[str, object] = {
            "stream_url": await device.stream_uri(main.token), "has_ptz": main.has_ptz,
        }
        if data.onvif_sub_profile is not None:
            sub = profiles.get(data.onvif_sub_profile)
            if sub is None:
                raise Unprocessable(
                    f"onvif_sub_profile: the camera has no profile {data.onvif_sub_profile!r}"
                )
            update["sub_stream_url"] = await device.stream_uri(sub.token)
    finally:
        await device.close()
    return data.model_copy(update=update)
