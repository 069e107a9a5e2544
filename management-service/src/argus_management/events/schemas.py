"""Request and response bodies of the events API and of ``POST /internal/events``."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from argus_common.events import SCHEMA_VERSION, utcnow

Severity = Literal["info", "warning", "critical"]
TYPE_PATTERN = r"^[a-z0-9_.-]{1,64}$"
# Row ids are PostgreSQL ``integer``: a larger value would fail in the driver, not as a 4xx.
MAX_ID = 2**31 - 1
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_PAYLOAD_DEPTH = 16

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    """Naive times are UTC; times outside 1970 to 2200 are refused (they overflow in the
    conversion or the database rather than failing cleanly)."""
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("time out of range")
    return value


UtcTime = Annotated[datetime, AfterValidator(_to_utc)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def check_json_value(value: Any, depth: int = 0) -> None:
    """Refuse what JSON columns cannot store: NUL characters (PostgreSQL ``jsonb``), NaN and
    infinities (not JSON), integers beyond 64 bits, and deep nesting."""
    if depth > MAX_PAYLOAD_DEPTH:
        raise ValueError(f"payload nested deeper than {MAX_PAYLOAD_DEPTH}")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("payload strings must not contain NUL")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError("payload integers must fit in 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("payload numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_value(key, depth + 1)
            check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item, depth + 1)


class EventIn(BaseModel):
    """An ``argus_common.events.EventMessage`` as reported by a media service.

    ``id`` is the reporter's message id: a redelivery with the same id is stored once.
    ``event_id`` is accepted (a serialized ``EventMessage`` carries it) and ignored.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    type: str = Field(pattern=TYPE_PATTERN)
    camera_id: RowId | None = None
    ts: UtcTime = Field(default_factory=utcnow)  # as EventMessage: now when left out
    v: int = Field(SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    event_id: int | None = None
    severity: Severity = "info"
    ends_at: UtcTime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payload")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_json_value(value)
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventIn:
        if self.ends_at is not None and self.ends_at < self.ts:
            raise ValueError("ends_at must not be before ts")
        return self


class EventOut(BaseModel):
    """An event as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: str
    camera_id: int | None
    type: str
    severity: str
    started_at: datetime
    ended_at: datetime | None
    payload: dict[str, Any]
    snapshot_path: str | None
    kept: bool
    created_at: datetime


class EventFilters(BaseModel):
    """Filters of ``GET /api/v1/events`` (``start`` inclusive, ``end`` exclusive)."""

    model_config = ConfigDict(extra="forbid")

    camera_id: RowId | None = None
    type: str | None = Field(None, pattern=TYPE_PATTERN)
    start: UtcTime | None = None
    end: UtcTime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> EventFilters:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self
