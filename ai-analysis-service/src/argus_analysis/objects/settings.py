"""A camera's object settings: ``analysis.objects`` as management stores it, else the
analyser's ``ANALYSIS_OBJECT_DEFAULTS``. Malformed settings turn objects off for that
camera (motion is unaffected). The contract: /work/notes/objects_contract.md, README."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Point = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=2, max_length=2)]
Polygon = Annotated[list[Point], Field(min_length=3, max_length=64)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,64}$")]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9 _.-]{1,64}$")]
DetectorName = Literal["auto", "opencv-hog", "opencv-face", "onnx"]
Direction = Literal["any", "left_to_right", "right_to_left"]


class ZoneRule(BaseModel):
    """A named zone: enter/leave events always; dwell after ``dwell_s``; count above
    ``max_count``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Name
    polygon: Polygon
    labels: tuple[Label, ...] = ()
    dwell_s: float | None = Field(None, gt=0.0, le=86_400.0)
    max_count: int | None = Field(None, ge=0, le=1000)


class LineRule(BaseModel):
    """A directed line a -> b; crossings in ``direction`` (see the README) fire."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Name
    a: Point
    b: Point
    direction: Direction = "any"
    labels: tuple[Label, ...] = ()


class ObjectSettings(BaseModel):
    """Object detection of one camera."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    enabled: bool = False
    detector: DetectorName = "auto"
    labels: tuple[Label, ...] = ()
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    zones: tuple[ZoneRule, ...] = Field((), max_length=16)
    lines: tuple[LineRule, ...] = Field((), max_length=16)

    @model_validator(mode="after")
    def _unique_names(self) -> ObjectSettings:
        names = [z.name for z in self.zones] + [ln.name for ln in self.lines]
        if len(names) != len(set(names)):
            raise ValueError("zone and line names must be unique")
        return self

    def __hash__(self) -> int:  # frozen models with lists inside: hash their JSON
        return hash(self.model_dump_json())

    def wants(self, label: str, rule_labels: tuple[str, ...] = ()) -> bool:
        """Whether ``label`` counts (for a rule with its own ``rule_labels``)."""
        allowed = rule_labels or self.labels
        return not allowed or label in allowed

    @classmethod
    def parse(cls, raw: Any, defaults: ObjectSettings | None = None) -> ObjectSettings:
        """From a camera's ``analysis.objects`` (None or absent: ``defaults``); malformed:
        off."""
        if raw is None:
            return defaults if defaults is not None else cls()
        try:
            return cls.model_validate(raw if isinstance(raw, dict) else {})
        except ValidationError:
            return cls()


OFF = ObjectSettings()
