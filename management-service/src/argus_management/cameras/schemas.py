"""Camera API schemas. Passwords are write-only: no response model has a password field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RecordingMode = Literal["continuous", "events", "off"]
Point = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=2, max_length=2)]
Polygon = Annotated[list[Point], Field(min_length=3, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Secret = Annotated[str, Field(max_length=256)]
OnvifToken = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]


RuleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,64}$")]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,64}$")]
Labels = Annotated[list[Label], Field(max_length=32)]


class ObjectZone(BaseModel):
    """A named zone of object rules (an object is in it when its box's bottom centre is)."""

    model_config = ConfigDict(extra="forbid")

    name: RuleName
    polygon: Polygon
    labels: Labels = Field(default_factory=list, description="[]: the camera's labels")
    dwell_s: float | None = Field(None, gt=0.0, le=86_400.0,
                                  description="object.zone_dwell after this long inside")
    max_count: int | None = Field(None, ge=0, le=1000,
                                  description="object.zone_count when more are inside")


class ObjectLine(BaseModel):
    """A directed line a -> b; ``left_to_right`` is from the left of a -> b as drawn."""

    model_config = ConfigDict(extra="forbid")

    name: RuleName
    a: Point
    b: Point
    direction: Literal["any", "left_to_right", "right_to_left"] = "any"
    labels: Labels = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_a_point(self) -> ObjectLine:
        if self.a == self.b:
            raise ValueError("a line's two ends must differ")
        return self


class ObjectSettings(BaseModel):
    """Object detection of one camera (the contract: ai-analysis-service ``objects/``).

    ``retention_days`` is management's: recordings around this camera's objects of a label
    are kept that many days, however short the camera's ``retention_days`` is.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    detector: Literal["auto", "opencv-hog", "onnx", "opencv-face"] = "auto"
    labels: Labels = Field(default_factory=list, description="[]: every label detected")
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    zones: list[ObjectZone] = Field(default_factory=list, max_length=16)
    lines: list[ObjectLine] = Field(default_factory=list, max_length=16)
    retention_days: dict[Label, Annotated[int, Field(ge=1, le=3650)]] = Field(
        default_factory=dict, max_length=32,
        description='recordings around objects of a label kept this long, e.g. {"person": 30}',
    )

    @model_validator(mode="after")
    def _unique_names(self) -> ObjectSettings:
        # The analyser turns objects off for the camera when names repeat: refuse it here.
        names = [z.name for z in self.zones] + [ln.name for ln in self.lines]
        if len(names) != len(set(names)):
            raise ValueError("zone and line names must be unique")
        return self


class AnalysisSettings(BaseModel):
    """Motion analysis of one camera; polygons in normalized [0, 1] coordinates."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    sensitivity: int = Field(50, ge=1, le=100)
    min_area: float = Field(0.002, ge=0.0, le=1.0, description="fraction of the picture")
    zones: list[Polygon] = Field(default_factory=list, max_length=16)
    masks: list[Polygon] = Field(default_factory=list, max_length=16)
    start_frames: int = Field(3, ge=1, le=100)
    end_quiet_s: float = Field(5.0, ge=0.0, le=600.0)
    backfill: bool = Field(
        False, description="also analyse footage backfilled from the camera's storage after "
        "an outage; what it shows is reported as past events marked backfill",
    )
    # Object detection (runs only while motion analysis is enabled); None: the analyser's
    # ANALYSIS_OBJECT_DEFAULTS.
    objects: ObjectSettings | None = None


# A camera's tiering age: its segments move to the object store this many hours after they
# end; null: the recorder's default (RECORDING_TIER_CAMERAS, RECORDING_TIER_AFTER_HOURS).
TierHours = Annotated[float, Field(
    ge=0, le=24 * 3650,
    description="hours after which recordings move to the object store; null: the default",
)]


class _CameraFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sub_stream_url: Url | None = None
    username: Annotated[str, Field(max_length=128)] | None = None
    password: Secret | None = None
    onvif_host: Annotated[str, Field(max_length=255)] | None = None
    onvif_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    has_ptz: bool = False
    enabled: bool = True
    recording_mode: RecordingMode = "continuous"
    retention_days: int = Field(30, ge=1, le=3650)
    tier_after_hours: TierHours | None = None
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    connect_timeout_s: float = Field(5.0, ge=0.5, le=60.0)
    read_timeout_s: float = Field(3.0, ge=0.5, le=60.0)

    @field_validator("onvif_host")
    @classmethod
    def _no_userinfo(cls, v: str | None) -> str | None:
        if v is not None and ("@" in v or "/" in v or any(c.isspace() for c in v)):
            raise ValueError("onvif_host must be a bare host name or address")
        return v


class CameraCreate(_CameraFields):
    name: Name
    stream_url: Url | None = None  # required unless onvif_profile fills it in
    # Register from an ONVIF probe: the stream URLs (GetStreamUri) and has_ptz (the profile's
    # PTZ configuration) come from the camera at onvif_host:onvif_port (onvif/registration.py).
    onvif_profile: OnvifToken | None = None
    onvif_sub_profile: OnvifToken | None = None

    @model_validator(mode="after")
    def _stream_source(self) -> CameraCreate:
        if self.onvif_profile is None:
            if self.stream_url is None:
                raise ValueError("stream_url is required (or onvif_profile with onvif_host)")
            if self.onvif_sub_profile is not None:
                raise ValueError("onvif_sub_profile needs onvif_profile")
        elif not self.onvif_host:
            raise ValueError("onvif_profile needs onvif_host")
        return self


class CameraUpdate(BaseModel):
    """Partial update: only the fields sent change. ``password: null`` clears it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    stream_url: Url | None = None
    sub_stream_url: Url | None = None
    username: Annotated[str, Field(max_length=128)] | None = None
    password: Secret | None = None
    onvif_host: Annotated[str, Field(max_length=255)] | None = None
    onvif_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    has_ptz: bool | None = None
    enabled: bool | None = None
    recording_mode: RecordingMode | None = None
    retention_days: int | None = Field(None, ge=1, le=3650)
    tier_after_hours: TierHours | None = None
    analysis: AnalysisSettings | None = None
    connect_timeout_s: float | None = Field(None, ge=0.5, le=60.0)
    read_timeout_s: float | None = Field(None, ge=0.5, le=60.0)


class CameraOut(BaseModel):
    """A camera as users see it: URLs without userinfo, no password."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    stream_url: str
    sub_stream_url: str | None
    username: str | None
    has_password: bool
    onvif_host: str | None
    onvif_port: int | None
    has_ptz: bool
    enabled: bool
    recording_mode: str
    retention_days: int
    tier_after_hours: float | None = None
    analysis: AnalysisSettings
    connect_timeout_s: float
    read_timeout_s: float
    status: str
    last_seen: datetime | None
    created_at: datetime
    updated_at: datetime


def for_viewer(camera: CameraOut) -> CameraOut:
    """What a user without ``cameras:write`` sees: no stream URLs, camera account or ONVIF
    address (where the camera is and how to log in to it are the administrators' business;
    video reaches viewers through the streaming service)."""
    return camera.model_copy(update={
        "stream_url": "", "sub_stream_url": None, "username": None, "onvif_host": None,
        "onvif_port": None,
    })


class CameraInternal(CameraOut):
    """What media services get from ``/internal/cameras``: credentials included."""

    password: str | None
