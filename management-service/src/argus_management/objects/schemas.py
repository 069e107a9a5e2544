"""Bodies and filters of the search, review and object API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus_management.events.schemas import RowId, UtcTime

NAME_PATTERN = r"^[A-Za-z0-9 _.-]{1,64}$"
Label = Annotated[str, Field(pattern=NAME_PATTERN)]
COLOUR = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
                 "white", "grey", "black"]
Sort = Literal["time", "score"]
MAX_LIST = 32
MAX_BULK = 500


class SearchFilters(BaseModel):
    """What ``GET /api/v1/search`` narrows on (every filter optional; ``start`` inclusive,
    ``end`` exclusive, both on the time the object was first seen)."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Label] = Field(default_factory=list, max_length=MAX_LIST)
    camera_ids: list[RowId] = Field(default_factory=list, max_length=256)
    zone: str | None = Field(None, pattern=NAME_PATTERN)
    line: str | None = Field(None, pattern=NAME_PATTERN)
    start: UtcTime | None = None
    end: UtcTime | None = None
    colors: list[COLOUR] = Field(default_factory=list, max_length=11)
    min_dwell_s: float | None = Field(None, ge=0.0, le=1e9)
    min_score: float | None = Field(None, ge=0.0, le=1.0)
    reviewed: bool | None = None
    sort: Sort = "time"
    order: Literal["desc", "asc"] = "desc"

    @model_validator(mode="after")
    def _ordered(self) -> SearchFilters:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class ObjectOut(BaseModel):
    """A tracked object as search and review show it.

    ``snapshot_url`` is the picture of ``event_id`` (the track's best frame once it ended)
    and ``box`` the object's normalized box in it; null until the analyser uploaded it.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    track_id: str
    label: str
    first_seen: datetime
    last_seen: datetime
    dwell_s: float
    score: float
    color: str | None
    box: dict[str, float]
    zones: list[str]
    lines: list[str]
    direction: str | None
    speed: float | None
    event_id: int | None
    snapshot_url: str | None = None
    snapshot_ts: datetime | None
    ended: bool
    reviewed: bool
    reviewed_by: int | None
    reviewed_at: datetime | None


class ObjectEventOut(BaseModel):
    """One of an object's events (zone entered, line crossed …)."""

    id: int
    type: str
    started_at: datetime
    payload: dict[str, Any]
    has_snapshot: bool


class ObjectDetail(ObjectOut):
    """One object with its path and its events."""

    mean_score: float | None
    path: list[list[float]]
    events: list[ObjectEventOut]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewed: bool = True


class BulkReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] = Field(min_length=1, max_length=MAX_BULK)
    reviewed: bool = True


class BulkReviewOut(BaseModel):
    count: int = Field(description="objects whose flag changed")


class ReviewSummary(BaseModel):
    """Unreviewed objects of one camera the caller sees."""

    camera_id: int
    unreviewed: int
    newest: datetime | None
