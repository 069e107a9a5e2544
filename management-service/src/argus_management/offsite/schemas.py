"""Off-site copy requests and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HoldCopyIn(BaseModel):
    """For an event hold: how much before and after the event to copy."""

    model_config = ConfigDict(extra="forbid")

    pre_s: float = Field(30.0, ge=0, le=3600)
    post_s: float = Field(30.0, ge=0, le=3600)


class OffsiteJobOut(BaseModel):
    """An off-site copy job; once ``done``, where the copy went: ``s3://<bucket>/<folder>/``."""

    id: int
    kind: Literal["export", "hold"]
    target_id: int = Field(description="the export's or the hold's id")
    state: Literal["queued", "running", "done", "failed"]
    attempts: int
    error: str | None = None
    requested_by: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    bucket: str | None = None
    folder: str | None = None
    objects: int = Field(0, description="objects written (segments or the bundle, and a manifest)")
    bytes: int = 0
    missing: int = Field(0, description="segments in the range whose file no tier had")
