"""HLS session API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: int = Field(ge=1, le=2**31 - 1)


class StopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=64)


class StreamOut(BaseModel):
    session_id: str
    camera_id: int
    hls_url: str
    expires_at: datetime


class StreamSummary(BaseModel):
    session_id: str
    camera_id: int
    expires_at: datetime


class StopOut(BaseModel):
    """The streamer design's (is22) stop answer, exactly: ``{"status": "stopped"}``."""

    status: Literal["stopped"]
