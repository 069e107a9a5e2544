"""What the analyser knows of a camera (from management's internal API) and its motion
settings."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from argus_analysis.detect.base import Algorithm, DetectorConfig
from argus_analysis.detect.geometry import to_polygons
from argus_common.cameras import Camera

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
    # Analyse the footage the recorder backfills from the camera's storage after an
    # outage (backfill/), and report what it shows as past events.
    backfill: bool = False

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


class CameraConfig(Camera):
    """One camera as ``GET /internal/cameras`` describes it (``argus_common.cameras``); the
    analyser pulls the sub-stream when there is one."""

    @cached_property
    def motion(self) -> MotionSettings:
        """The camera's ``analysis`` settings, parsed (malformed: the disabled defaults)."""
        return MotionSettings.parse(self.analysis)

    @cached_property
    def objects(self) -> Any:
        """The camera's raw ``analysis.objects`` (None: not set; parsed by the object
        engine, which applies ``ANALYSIS_OBJECT_DEFAULTS``)."""
        return self.analysis.get("objects")

    @property
    def wants_analysis(self) -> bool:
        """Enabled, with motion analysis turned on."""
        return self.enabled and self.motion.enabled

    def analysed_url(self, prefer_sub: bool = True) -> str:
        """The URL analysed (the sub-stream when there is one), without credentials."""
        return self.stream(prefer_sub)

    def source_url(self, prefer_sub: bool = True) -> str:
        """``analysed_url`` with the credentials as userinfo. Never log it."""
        return super().source_url(prefer_sub)

    def connection_key(self, prefer_sub: bool = True) -> tuple[Any, ...]:
        """Everything whose change needs the camera's connection restarted."""
        return super().connection_key(prefer_sub)
