"""Bodies of the analysis API: jobs, their progress, results, and the ``/ws/analysis``
frames."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus_management.events.schemas import RowId, UtcTime

JobState = Literal["queued", "running", "done", "failed"]
JOB_ID_PATTERN = r"^[a-f0-9]{32}$"


class RangeJobIn(BaseModel):
    """``POST /api/v1/analysis/jobs`` (JSON): analyse a camera's recordings in a range."""

    model_config = ConfigDict(extra="forbid")

    camera_id: RowId
    start: UtcTime
    end: UtcTime

    @model_validator(mode="after")
    def _ordered(self) -> RangeJobIn:
        if self.end <= self.start:
            raise ValueError("end must come after start")
        return self


class JobOut(BaseModel):
    """An analysis job as the API returns it; ``id`` is the ``session_id`` of its results."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    source: str
    camera_id: int | None
    start: datetime | None = Field(validation_alias="range_start")
    end: datetime | None = Field(validation_alias="range_end")
    upload_name: str | None
    upload_bytes: int | None
    state: str
    progress: float
    frames: int
    motion_frames: int
    events: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobUpdateIn(BaseModel):
    """``PUT /internal/analysis/jobs/{id}``: what ai-analysis-service reports."""

    model_config = ConfigDict(extra="forbid")

    state: JobState
    progress: float | None = Field(None, ge=0.0, le=1.0)
    frames: int | None = Field(None, ge=0, le=2**62)
    motion_frames: int | None = Field(None, ge=0, le=2**62)
    events: int | None = Field(None, ge=0, le=2**31 - 1)
    error: str | None = Field(None, max_length=512)


class ResultOut(BaseModel):
    """One stored analysis result (a frame with motion, a summary, a motion start/end)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: str
    camera_id: int | None
    timestamp: datetime
    event: str
    payload: dict[str, Any]


class WsFrame(BaseModel):
    """Every text frame of ``/ws/analysis``: ``event`` is ``sessionStarted``,
    ``subscribed``, ``frameAnalyzed``, ``ping``, ``pong`` or ``error``."""

    sessionId: str  # the wire format is camelCase
    timestamp: str
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)
