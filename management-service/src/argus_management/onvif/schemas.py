"""ONVIF discovery and probe API schemas. The probe's password is write-only."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Host = Annotated[str, Field(min_length=1, max_length=255)]
Port = Annotated[int, Field(ge=1, le=65535)]
# ONVIF tokens are short ids chosen by the camera ("main", "Profile_1", "000").
ProfileToken = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]


def bare_host(value: str) -> str:
    """A host name or address alone: no scheme, userinfo, path or whitespace."""
    if "@" in value or "/" in value or any(c.isspace() for c in value):
        raise ValueError("must be a bare host name or address")
    return value


class DiscoverTarget(BaseModel):
    """Unicast probe destination (a WS-Discovery responder)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    host: Host
    port: Port = 3702

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        return bare_host(value)


class DiscoverRequest(BaseModel):
    """``POST /cameras/onvif/discover``: multicast unless ``target`` is given."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(2.0, ge=0.5, le=10.0, allow_inf_nan=False)
    target: DiscoverTarget | None = None


class DiscoveredOut(BaseModel):
    """One device that answered, and whether it is already a camera here."""

    endpoint_reference: str
    xaddrs: list[str]
    host: str | None
    port: int | None
    name: str | None
    hardware: str | None
    scopes: list[str]
    address: str
    registered: bool
    camera_id: int | None


class DiscoverOut(BaseModel):
    devices: list[DiscoveredOut]


class ProbeRequest(BaseModel):
    """``POST /cameras/onvif/probe``: connect to one device and describe it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    host: Host
    port: Port = 80
    username: Annotated[str, Field(max_length=128)] | None = None
    password: Annotated[str, Field(max_length=256)] | None = None
    connect_timeout_s: float = Field(5.0, ge=0.5, le=60.0, allow_inf_nan=False)
    read_timeout_s: float = Field(3.0, ge=0.5, le=60.0, allow_inf_nan=False)

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        return bare_host(value)


class DeviceInfoOut(BaseModel):
    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


class ProfileOut(BaseModel):
    """A media profile with its stream URI (never with userinfo)."""

    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    fps: float | None
    has_ptz: bool
    stream_uri: str | None
    snapshot_uri: str | None = Field(None, description="null: the camera offers none")


class PresetOut(BaseModel):
    token: str
    name: str


class PtzSupportOut(BaseModel):
    supported: bool
    profile: str | None
    presets: list[PresetOut]
    presets_available: bool = Field(True, description="false: the camera's presets could "
                                    "not be read (see warnings)")


class CapabilitiesOut(BaseModel):
    """The services the device lists (GetServices, or GetCapabilities on older devices)."""

    media2: bool = Field(description="Media2 (ver20): profiles may be H.265")
    ptz: bool
    events: bool = Field(description="events (PullPoint): motion, tampering, inputs")
    imaging: bool
    time: bool = Field(description="false: the clock could not be read; requests are "
                       "signed in our time")


class ProbeOut(BaseModel):
    """What registering the camera needs: pick ``main_profile`` / ``sub_profile`` tokens."""

    host: str
    port: int
    device: DeviceInfoOut
    time_offset_s: float = Field(description="camera clock minus ours, corrected for")
    profiles: list[ProfileOut]
    main_profile: str | None = Field(description="suggested: the largest picture")
    sub_profile: str | None = Field(description="suggested: the smallest, if another")
    ptz: PtzSupportOut
    capabilities: CapabilitiesOut
    warnings: list[str] = Field(
        default_factory=list, description="optional operations that were not available"
    )
