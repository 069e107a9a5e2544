"""What the analyser knows of a camera (from management's internal API) and its motion
settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from argus_analysis.detect.base import Algorithm, DetectorConfig
from argus_analysis.detect.geometry import to_polygons
from argus_common.media import with_userinfo

Point = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=2, max_length=2)]
Polygon = Annotated[list[Point], Field(min_length=3, max_length=64)]


class MotionSettings(BaseModel):
    """A camera's ``analysis`` settings as management stores them (same bounds)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    enabled: bool = False
    sensitivity: int = Field(50, ge=1, le=100)
    min_area: float = Field(0.002, ge=0.0, le=1.0)
    zones: list[Polygon] = Field(default_factory=list, max_length=16)
    masks: list[Polygon] = Field(default_factory=list, max_length=16)
    start_frames: int = Field(3, ge=1, le=100)
    end_quiet_s: float = Field(5.0, ge=0.0, le=600.0)

    @classmethod
    def parse(cls, raw: Any) -> MotionSettings:
        """Settings from an API value; anything malformed gives the defaults (disabled)."""
        try:
            return cls.model_validate(raw if isinstance(raw, dict) else {})
        except ValidationError:
            return cls()

    def detector_config(
        self, algorithm: Algorithm, tau_s: float, default_masks: list[Any]
    ) -> DetectorConfig:
        """The detector's view. A camera without masks of its own gets ``default_masks``
        (the burnt-in clock area)."""
        masks = self.masks or default_masks
        return DetectorConfig(
            sensitivity=self.sensitivity, min_area=self.min_area,
            zones=to_polygons(self.zones), masks=to_polygons(masks),
            algorithm=algorithm, tau_s=tau_s,
        )


@dataclass(frozen=True)
class CameraConfig:
    """One camera as ``GET /internal/cameras`` describes it. The password never shows in
    ``repr`` and the stored URLs never hold userinfo."""

    id: int
    name: str
    stream_url: str
    sub_stream_url: str | None
    username: str | None
    password: str | None = field(repr=False)
    enabled: bool
    analysis: MotionSettings
    connect_timeout_s: float
    read_timeout_s: float

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CameraConfig:
        """Build from an internal API item (unknown fields ignored)."""
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            stream_url=str(data["stream_url"]),
            sub_stream_url=data.get("sub_stream_url") or None,
            username=data.get("username") or None,
            password=data.get("password") or None,
            enabled=bool(data.get("enabled", True)),
            analysis=MotionSettings.parse(data.get("analysis")),
            connect_timeout_s=float(data.get("connect_timeout_s", 5.0)),
            read_timeout_s=float(data.get("read_timeout_s", 3.0)),
        )

    @property
    def wants_analysis(self) -> bool:
        return self.enabled and self.analysis.enabled

    def analysed_url(self, prefer_sub: bool = True) -> str:
        """The URL analysed (the sub-stream when there is one), without credentials."""
        if prefer_sub and self.sub_stream_url:
            return self.sub_stream_url
        return self.stream_url

    def source_url(self, prefer_sub: bool = True) -> str:
        """``analysed_url`` with the credentials as userinfo. Never log it."""
        return with_userinfo(self.analysed_url(prefer_sub), self.username, self.password)

    def connection_key(self, prefer_sub: bool = True) -> tuple[Any, ...]:
        """Everything whose change needs the camera's connection restarted."""
        return (
            self.analysed_url(prefer_sub), self.username, self.password,
            self.connect_timeout_s, self.read_timeout_s,
        )
