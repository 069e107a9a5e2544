"""Off-site copy requests and results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class HoldCopyIn(BaseModel):
    """For an event hold: how much before and after the event to copy."""

    model_config = ConfigDict(extra="forbid")

    pre_s: float = Field(30.0, ge=0, le=3600)
    post_s: float = Field(30.0, ge=0, le=3600)


class OffsiteCopyOut(BaseModel):
    """Where the copy went: ``s3://<bucket>/<folder>/...``."""

    bucket: str
    folder: str
    objects: int = Field(description="objects written (segments or the bundle, and a manifest)")
    bytes: int
    missing: int = Field(0, description="segments in the range whose file no tier had")
    copied_at: datetime
