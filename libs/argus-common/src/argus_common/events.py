"""Names and Pydantic models of every message that crosses Redis.

Streams (consumer groups, at-least-once) carry what must not be lost; pub/sub channels carry
what is only worth having live. Full Redis names are ``<namespace>:<name>``; the namespace is
``argus`` except in tests, which use their own so parallel runs never see each other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Streams
STREAM_EVENTS = "events"
STREAM_SEGMENTS = "segments"
STREAM_ANALYSIS = "analysis"
# Pub/sub channels
CHANNEL_ALERTS = "alerts"
CHANNEL_CAMERAS = "cameras"
CHANNEL_PTZ = "ptz"
# Consumer groups whose names other services rely on
SEGMENTS_GROUP = "management"  # management's group on argus:segments (the recording index)

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Message(BaseModel):
    """Fields every message carries."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    type: str
    camera_id: int | None = None
    ts: datetime = Field(default_factory=utcnow)
    v: int = SCHEMA_VERSION


class EventMessage(Message):
    """An event on ``argus:events`` (motion.start/end, rtmp.publish/unpublish, manual,
    stream.up/down …). ``event_id`` is the row id in management's ``events`` table."""

    event_id: int | None = None
    severity: Literal["info", "warning", "critical"] = "info"
    ends_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class AlertMessage(Message):
    """An alert pushed live to operators on ``argus:alerts`` (type ``alert.<kind>``)."""

    alert_id: int | None = None
    kind: str
    severity: Literal["info", "warning", "critical"] = "warning"
    state: Literal["open", "acked", "resolved"] = "open"
    title: str
    detail: str = ""
    event_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class CameraChanged(Message):
    """Camera configuration changed on ``argus:cameras``: services reload that camera."""

    type: str = "camera.changed"
    action: Literal["created", "updated", "deleted"]


class PtzLockChanged(Message):
    """PTZ lock state on ``argus:ptz``."""

    type: str = "ptz.lock"
    holder_user_id: int | None = None
    holder_username: str | None = None
    priority: int | None = None
    expires_at: datetime | None = None
    previous_user_id: int | None = None
    reason: Literal["acquired", "released", "expired", "takeover"] = "acquired"


class SegmentClosed(Message):
    """A finished recording segment on ``argus:segments``.

    recording-service announces it only after write, fsync of the file and fsync of its
    directory; management indexes it idempotently on ``path`` (relative to
    ``RECORDINGS_DIR``: ``<camera_id>/<YYYY-MM-DD>/<HH>/<start-epoch-ms>.mp4``, UTC).
    """

    type: str = "segment.closed"
    camera_id: int
    path: str = Field(min_length=1, max_length=512)
    start: datetime
    end: datetime
    duration: float = Field(ge=0)  # seconds of media in the file
    bytes: int = Field(ge=0)
    kind: Literal["continuous", "event"] = "continuous"
    codec: str = Field(max_length=16)
    width: int = Field(ge=0)
    height: int = Field(ge=0)
    has_audio: bool = False
