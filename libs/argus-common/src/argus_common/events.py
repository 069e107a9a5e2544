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
STREAM_ANALYSIS_JOBS = "analysis_jobs"  # analysis jobs on files, run by ai-analysis-service
# Pub/sub channels
CHANNEL_ALERTS = "alerts"
CHANNEL_CAMERAS = "cameras"
CHANNEL_PTZ = "ptz"
CHANNEL_ANALYSIS_FRAMES = "analysis.frames"  # every analysed frame, live (for /ws/analysis)
CHANNEL_AUTHZ = "authz"  # committed revocations and grant changes (streaming ends sessions)
# Consumer groups whose names other services rely on
SEGMENTS_GROUP = "management"  # management's group on argus:segments (the recording index)
ANALYSIS_GROUP = "management"  # management's group on argus:analysis (-> analysis_results)
ANALYSIS_JOBS_GROUP = "analysis"  # ai-analysis-service's group on argus:analysis_jobs

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


class AuthzChanged(Message):
    """Who may see what changed, on ``argus:authz``, published after the change committed.

    ``user_ids`` names the users affected (None: possibly anyone, such as a camera group
    change); ``families`` and ``jtis`` the refresh families and access tokens revoked by a
    logout or a password change. Listeners re-check the sessions of those users with
    management (the message says that something changed, never what is now allowed).
    """

    type: str = "authz.changed"
    reason: Literal["grants", "user", "logout", "password", "other"] = "other"
    user_ids: list[int] | None = None
    families: list[str] = Field(default_factory=list, max_length=1000)
    jtis: list[str] = Field(default_factory=list, max_length=1000)


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
    # Restored afterwards from the camera's own storage (ONVIF Profile G replay), not
    # recorded live (recording-service ``backfill/``).
    backfilled: bool = False


class MotionBox(BaseModel):
    """A region with motion, normalized to the picture: ``x``, ``y`` of the top-left corner,
    ``w``, ``h`` its size, all in [0, 1]."""

    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)
    w: float = Field(ge=0.0, le=1.0)
    h: float = Field(ge=0.0, le=1.0)


class ObjectBox(BaseModel):
    """A detected object's box, normalized to the picture (``x``, ``y`` top-left)."""

    x: float
    y: float
    w: float
    h: float


class DetectedObject(BaseModel):
    """One detection on an analysed frame: ``track_id`` is None until the tracker has
    confirmed it as a track."""

    track_id: str | None = Field(None, max_length=64)
    label: str = Field(min_length=1, max_length=64)
    score: float = Field(ge=0.0, le=1.0)
    box: ObjectBox
    color: str | None = Field(None, max_length=32)


class AnalysisFrame(Message):
    """The analysis of one frame, or a summary of several, of a camera or a job.

    Published on ``analysis.frames`` for every analysed frame (live, for ``/ws/analysis``)
    and added to the ``argus:analysis`` stream for the frames worth keeping (every frame
    with motion, one ``summary`` per interval otherwise), which management stores in
    ``analysis_results``. ``ts`` is the capture time of the frame (of the last frame for a
    summary); ``session_id`` is the analysis session: one camera connection of one
    analyser, or an analysis job's id.
    """

    type: str = "analysis.frame"
    session_id: str = Field(min_length=1, max_length=64)
    kind: Literal["frame", "summary", "motion.start", "motion.end"] = "frame"
    motion: bool = False
    score: float = Field(0.0, ge=0.0, le=1.0)  # fraction of the watched pixels that changed
    boxes: list[MotionBox] = Field(default_factory=list, max_length=64)
    width: int = Field(0, ge=0)  # size of the analysed (downscaled) picture
    height: int = Field(0, ge=0)
    frames: int = Field(1, ge=0)  # frames this entry covers (a summary: since the last one)
    motion_frames: int = Field(0, ge=0)
    max_score: float = Field(0.0, ge=0.0, le=1.0)
    event_id: int | None = None  # the motion.start event in progress, if any
    media_s: float | None = None  # position in the file (jobs)
    # Detections, only on frames the object detector ran on (None on the others).
    objects: list[DetectedObject] | None = Field(None, max_length=64)


class AnalysisJobSegment(BaseModel):
    """A recorded file of an analysis job, relative to ``RECORDINGS_DIR``."""

    path: str = Field(min_length=1, max_length=512)
    start: datetime
    end: datetime


class AnalysisJobRequest(Message):
    """An analysis job for ai-analysis-service on ``argus:analysis_jobs``.

    ``source`` ``recording``: the ``segments`` of ``camera_id`` between ``start`` and
    ``end``; ``upload``: a file uploaded to management, fetched from
    ``GET /internal/analysis/jobs/{job_id}/upload``. ``analysis`` holds the camera's
    motion settings (or the defaults). Progress goes to
    ``PUT /internal/analysis/jobs/{job_id}``; results to ``argus:analysis`` with
    ``session_id = job_id``.
    """

    type: str = "analysis.job"
    job_id: str = Field(pattern=r"^[a-f0-9]{32}$")
    source: Literal["recording", "upload"]
    start: datetime | None = None
    end: datetime | None = None
    segments: list[AnalysisJobSegment] = Field(default_factory=list)
    analysis: dict[str, Any] = Field(default_factory=dict)


# The audit stream: what a media service reports for management's audit log.
STREAM_AUDIT = "audit"
AUDIT_GROUP = "management"  # management's group on argus:audit (-> audit_log)

VideoKind = Literal["live", "playback", "hls", "vod", "snapshot", "export"]


class VideoAccess(Message):
    """Someone watched video, on ``argus:audit``: one ``start`` when a viewing session
    opens and one ``end`` (with its duration) when it closes, both naming ``session_id``.

    Two rows rather than one at the end, because the audit log is append-only and a
    service that crashes mid-session must not take the fact of access with it: a ``start``
    without an ``end`` is a session that never closed cleanly. Management writes each at
    most once (idempotent on ``session_id`` and ``phase``: the stream is at-least-once).
    ``range_start``/``range_end`` bound recorded video (playback, VOD, export); live kinds
    leave them empty. ``client_ip`` is the viewer's address behind trusted proxies.
    """

    type: str = "video.access"
    phase: Literal["start", "end"]
    session_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: VideoKind
    camera_id: int = Field(ge=1)
    user_id: int | None = None
    username: str | None = Field(None, max_length=64)
    client_ip: str | None = Field(None, max_length=64)
    user_agent: str | None = Field(None, max_length=256)
    stream: str | None = Field(None, max_length=16)
    range_start: datetime | None = None
    range_end: datetime | None = None
    started_at: datetime
    ended_at: datetime | None = None
    duration_s: float | None = Field(None, ge=0)
    reason: str | None = Field(None, max_length=32)  # why it ended: closed, idle, revoked …
    service: str = Field("streaming", max_length=32)
