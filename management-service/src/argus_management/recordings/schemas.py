"""Bodies of the timeline and manual-trigger API, and of the recorder's internal API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus_management.events.schemas import RowId, UtcTime

MAX_WINDOW = timedelta(days=7)
# With ``resolution_s`` the timeline is a summary (merged ranges, gaps, event counts, no
# segment list) and may span a month.
MAX_SUMMARY_WINDOW = timedelta(days=31)
MAX_BUCKETS = 50_000
MAX_MANUAL_S = 600.0
RelPath = Annotated[str, Field(min_length=1, max_length=512)]


class TimelineWindow(BaseModel):
    """``start``/``end`` of a timeline request: end after start, at most 7 days apart, or
    31 days with ``resolution_s`` (at most 50,000 buckets of it)."""

    model_config = ConfigDict(extra="forbid")

    start: UtcTime
    end: UtcTime
    resolution_s: float | None = Field(None, ge=1, le=86_400)

    @model_validator(mode="after")
    def _bounded(self) -> TimelineWindow:
        if self.end <= self.start:
            raise ValueError("end must come after start")
        span = self.end - self.start
        if self.resolution_s is None and span > MAX_WINDOW:
            raise ValueError("the window may span at most 7 days (31 with resolution_s)")
        if self.resolution_s is not None:
            if span > MAX_SUMMARY_WINDOW:
                raise ValueError("the window may span at most 31 days")
            if span.total_seconds() / self.resolution_s > MAX_BUCKETS:
                raise ValueError(f"at most {MAX_BUCKETS} buckets of resolution_s")
        return self


class RangeOut(BaseModel):
    start: datetime
    end: datetime


class TimelineEventOut(BaseModel):
    """An event drawn over the recordings; ``end`` is null while it is still open."""

    id: int
    type: str
    start: datetime
    end: datetime | None
    kept: bool


class TimelineSegmentOut(BaseModel):
    """A segment file to play (``path`` relative to ``RECORDINGS_DIR``)."""

    id: int
    path: str
    start: datetime
    end: datetime
    kind: str
    codec: str
    width: int
    height: int
    has_audio: bool
    bytes: int
    backfilled: bool = False  # restored from the camera's own storage after an outage
    # ``local`` (a file under RECORDINGS_DIR) or ``object`` (on the object store as
    # ``object_key``); players read either (streaming's tiers.py).
    tier: Literal["local", "object"] = "local"
    object_key: str | None = None


GapCause = Literal[
    "camera_offline", "recorder_down", "disk", "events_only", "unknown"
]


class GapOut(BaseModel):
    """A stretch without recording and, where known, why: the camera was offline
    (liveness), its recorder was down (``recorder.down``), the disk was low
    (``disk.low``), or the camera records only on events."""

    start: datetime
    end: datetime
    cause: GapCause


class EventClassOut(BaseModel):
    """Events of one type in the window: how many, and per bucket of ``resolution_s``
    (``[bucket index, count]``, buckets counted from ``start``; empty ones left out)."""

    type: str
    count: int
    buckets: list[tuple[int, int]]


class TimelineOut(BaseModel):
    """With ``resolution_s``: ranges merged across gaps shorter than it, ``gaps`` with
    causes, ``event_classes``, no ``segments``, and ``events`` only when the window holds
    at most 500 (else ``events_truncated``: zoom in to list them)."""

    camera_id: int
    start: datetime
    end: datetime
    recordings: list[RangeOut]
    events: list[TimelineEventOut]
    segments: list[TimelineSegmentOut]
    resolution_s: float | None = None
    gaps: list[GapOut] = []
    event_classes: list[EventClassOut] = []
    events_truncated: bool = False
    # Stretches of ``recordings`` restored from the camera's own storage after an outage.
    backfilled: list[RangeOut] = []
    # What a recorder is still writing (the open segment, not in ``recordings`` or
    # ``segments`` until it closes): from its start to its last complete fragment, a GOP
    # or so behind live. Playable over WHEP and VOD HLS like the rest.
    growing: list[RangeOut] = []


class GroupTimelineOut(BaseModel):
    """The summary timeline of every camera of a group the caller may see."""

    group_id: int
    start: datetime
    end: datetime
    resolution_s: float
    cameras: list[TimelineOut]


class RecordRequest(BaseModel):
    """``POST /api/v1/cameras/{id}/record``: record now for ``duration_s`` seconds."""

    model_config = ConfigDict(extra="forbid")

    duration_s: float = Field(ge=1, le=MAX_MANUAL_S)


class RecordOut(BaseModel):
    event_id: int
    camera_id: int
    started_at: datetime
    ends_at: datetime


# --- internal API (recording-service) ------------------------------------------------------


class PurgeItem(BaseModel):
    id: int
    camera_id: int
    path: str
    bytes: int
    kind: str
    tier: str = "local"  # ``object``: delete ``object_key`` from the object store
    object_key: str | None = None


class SegmentIndexOut(BaseModel):
    """What the index holds for one camera: live paths, and rows marked for deletion."""

    camera_id: int
    paths: list[str]
    deleted: list[PurgeItem]
    # Live rows whose segment is on the object store (their local file may be gone).
    tiered: list[str] = []


class PurgeRequest(BaseModel):
    """Ask for segments to delete; the answer's rows are already marked deleted.

    ``age``: segments older than their camera's ``retention_days``. ``space``: the oldest
    segments (continuous before event recordings) until ``bytes`` are freed. Neither mode
    returns a kept segment or one overlapping a kept event (widened by the pre/post-roll).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["age", "space"]
    camera_ids: list[RowId] | None = Field(None, max_length=10_000)
    bytes: int = Field(0, ge=0, le=2**62)
    limit: int = Field(500, ge=1, le=5000)
    pre_roll_s: float = Field(0.0, ge=0, le=3600)
    post_roll_s: float = Field(0.0, ge=0, le=3600)


class ProtectedRangeOut(BaseModel):
    camera_id: int
    start: datetime
    end: datetime


class ProtectedOut(BaseModel):
    """What the recorder's local disk guard (without management) must not delete: the
    time kept events and legal holds protect (widened by the pre/post-roll) and the paths
    of kept segments. The recorder keeps a copy on its disk."""

    ranges: list[ProtectedRangeOut]
    kept_paths: list[str]


class PurgeOut(BaseModel):
    items: list[PurgeItem]


class PurgedRequest(BaseModel):
    """Files of these marked rows are gone from disk: remove the rows."""

    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] = Field(max_length=5000)


class MissingRequest(BaseModel):
    """Indexed paths of ``camera_id`` whose files do not exist: drop them from the index."""

    model_config = ConfigDict(extra="forbid")

    camera_id: RowId
    paths: list[RelPath] = Field(max_length=10_000)


class CountOut(BaseModel):
    count: int

