"""PTZ API schemas. Positions and velocities use ONVIF's generic spaces."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

Unit = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
ZoomPosition = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
PresetName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
# Camera-chosen preset tokens ("1", "Preset_3"): short, printable, no path separators.
PRESET_TOKEN = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class _Move(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContinuousMove(_Move):
    """Move at a velocity for ``timeout_s`` seconds (then Stop), or until ``/stop``."""

    mode: Literal["continuous"]
    pan: Unit = 0.0
    tilt: Unit = 0.0
    zoom: Unit = 0.0
    timeout_s: int = Field(1, ge=1, le=10, strict=True, description="the move never outlives it")

    @model_validator(mode="after")
    def _moves(self) -> ContinuousMove:
        if not (self.pan or self.tilt or self.zoom):
            raise ValueError("at least one of pan, tilt, zoom must be non-zero (use /stop)")
        return self


class RelativeMove(_Move):
    """Move by a translation (pan, tilt, zoom each -1..1)."""

    mode: Literal["relative"]
    pan: Unit = 0.0
    tilt: Unit = 0.0
    zoom: Unit = 0.0

    @model_validator(mode="after")
    def _moves(self) -> RelativeMove:
        if not (self.pan or self.tilt or self.zoom):
            raise ValueError("at least one of pan, tilt, zoom must be non-zero")
        return self


class AbsoluteMove(_Move):
    """Go to a position (pan, tilt -1..1; zoom 0..1); an axis left out stays where it is."""

    mode: Literal["absolute"]
    pan: Unit | None = None
    tilt: Unit | None = None
    zoom: ZoomPosition | None = None

    @model_validator(mode="after")
    def _moves(self) -> AbsoluteMove:
        if self.pan is None and self.tilt is None and self.zoom is None:
            raise ValueError("give at least one of pan, tilt, zoom")
        return self


MoveRequest = Annotated[
    ContinuousMove | RelativeMove | AbsoluteMove, Field(discriminator="mode")
]


class LockRequest(BaseModel):
    """Acquire or renew the lock; ``takeover`` takes it from a lower-priority holder."""

    model_config = ConfigDict(extra="forbid")

    takeover: bool = False


class PresetCreate(BaseModel):
    """Store the current position as a preset named ``name``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PresetName


class PositionOut(BaseModel):
    pan: float | None
    tilt: float | None
    zoom: float | None


class LockOut(BaseModel):
    """The PTZ lock of a camera."""

    camera_id: int
    holder_user_id: int
    holder_username: str
    priority: int
    acquired_at: datetime
    expires_at: datetime
    yours: bool = Field(description="whether the caller holds it")


class StatusOut(BaseModel):
    camera_id: int
    position: PositionOut
    moving: bool
    pan_tilt_moving: bool
    zoom_moving: bool
    lock: LockOut | None
    warnings: list[str] = Field(
        default_factory=list, description="what the camera could not tell (position unknown)"
    )


class CommandOut(BaseModel):
    """A command was sent; renew the lock (any command, or ``POST .../lock``) before
    ``lock.expires_at``."""

    camera_id: int
    lock: LockOut | None
    stops_at: datetime | None = Field(None, description="when a continuous move is stopped")


class PresetOut(BaseModel):
    token: str
    name: str
    position: PositionOut | None


class PresetCreated(BaseModel):
    token: str
    name: str
