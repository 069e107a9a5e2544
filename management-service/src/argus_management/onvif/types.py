"""What ``OnvifDevice`` returns: plain dataclasses, never zeep objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(frozen=True)
class DeviceInfo:
    """``GetDeviceInformation`` of a camera."""

    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


@dataclass(frozen=True)
class MediaProfile:
    """One media profile: what its video encoder produces and whether it drives a PTZ head."""

    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    fps: float | None
    ptz_config_token: str | None

    @property
    def has_ptz(self) -> bool:
        return self.ptz_config_token is not None

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class PtzVector:
    """A pan/tilt/zoom triple in ONVIF's generic spaces (pan, tilt -1..1; zoom 0..1)."""

    pan: float | None
    tilt: float | None
    zoom: float | None


@dataclass(frozen=True)
class PtzStatus:
    """``GetStatus``: where the head is and whether it is moving."""

    position: PtzVector
    pan_tilt_moving: bool
    zoom_moving: bool

    @property
    def moving(self) -> bool:
        return self.pan_tilt_moving or self.zoom_moving


@dataclass(frozen=True)
class PtzPreset:
    """A preset stored on the camera."""

    token: str
    name: str
    position: PtzVector | None = None


@dataclass(frozen=True)
class DiscoveredDevice:
    """One answer to a WS-Discovery probe."""

    endpoint_reference: str
    xaddrs: list[str]
    scopes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    address: str = ""  # the IP the answer came from

    def scope_value(self, kind: str) -> str | None:
        """Decoded value of an ``onvif://www.onvif.org/<kind>/<value>`` scope."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for scope in self.scopes:
            if scope.startswith(prefix):
                return unquote(scope[len(prefix) :])
        return None
