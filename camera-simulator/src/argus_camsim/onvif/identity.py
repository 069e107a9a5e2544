"""Identity of a virtual camera as seen by ONVIF and WS-Discovery: UUID, serial, scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from argus_camsim.model import CameraInfo

_SCOPE_BASE = "onvif://www.onvif.org"


@dataclass(frozen=True)
class Scope:
    """One ONVIF scope URI and whether a client could change it (ScopeDefinition)."""

    uri: str
    fixed: bool


def device_uuid(camera: CameraInfo) -> str:
    """UUID of the device, stable for a given camera configuration across restarts.

    Discovery clients key devices by their EndpointReference, so it must not change
    when the simulator restarts.
    """
    seed = f"argus-camsim:{camera.path}:{camera.name}:{camera.serial}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def endpoint_reference(camera: CameraInfo) -> str:
    """The WS-Addressing EndpointReference address (``urn:uuid:…``)."""
    return f"urn:uuid:{device_uuid(camera)}"


def serial_number(camera: CameraInfo) -> str:
    """The configured serial, or one derived from the UUID so it is stable too."""
    if camera.serial:
        return camera.serial
    return "CS" + device_uuid(camera).replace("-", "")[:10].upper()


def scopes(camera: CameraInfo) -> list[Scope]:
    """The scopes a device reports in GetScopes and in discovery ProbeMatches."""
    result = [
        Scope(f"{_SCOPE_BASE}/type/video_encoder", fixed=True),
        Scope(f"{_SCOPE_BASE}/Profile/Streaming", fixed=True),
        Scope(f"{_SCOPE_BASE}/hardware/{quote(camera.model, safe='')}", fixed=True),
        Scope(f"{_SCOPE_BASE}/name/{quote(camera.name, safe='')}", fixed=False),
        Scope(f"{_SCOPE_BASE}/location/argus-camsim", fixed=False),
    ]
    if camera.has_ptz:
        result.insert(1, Scope(f"{_SCOPE_BASE}/type/ptz", fixed=True))
    return result
