"""Guard tour API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
# Camera-chosen preset tokens, as in the PTZ API.
PresetToken = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_STEPS = 32
MAX_ID = 2**31 - 1


class Step(BaseModel):
    """Go to ``preset`` and stay ``dwell_s`` seconds."""

    model_config = ConfigDict(extra="forbid")

    preset: PresetToken
    dwell_s: float = Field(ge=1.0, le=3600.0, allow_inf_nan=False)


Steps = Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]


class GuardTourCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    name: Name
    enabled: bool = True
    steps: Steps


class GuardTourUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    enabled: bool | None = None
    steps: Steps | None = None


State = Literal["running", "paused", "idle", "disabled"]


class GuardTourStatus(BaseModel):
    """What the runner is doing with the tour (live, from Redis)."""

    state: State = Field(
        description="running: it holds the PTZ lock; paused: an operator "
        "holds it (the tour resumes when their lock ends); idle: not started "
        "yet or no runner; disabled"
    )
    step: int | None = Field(None, description="index of the preset it is at")
    held_by: str | None = Field(None, description="who holds the lock while paused")
    since: datetime | None = None


class GuardTourOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    name: str
    enabled: bool
    steps: list[Step]
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    status: GuardTourStatus
