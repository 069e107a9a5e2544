"""Bodies of ``/api/v1/holds``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus_management.events.schemas import RowId, UtcTime

HoldKind = Literal["event", "range", "export"]


class HoldCreate(BaseModel):
    """Hold an event (``event_id``), a camera's range (``camera_id``, ``start``, ``end``)
    or an export (``export_id``); ``reason`` is required (it is the legal basis)."""

    model_config = ConfigDict(extra="forbid")

    kind: HoldKind
    reason: str = Field(min_length=1, max_length=1024)
    event_id: RowId | None = None
    camera_id: RowId | None = None
    start: UtcTime | None = None
    end: UtcTime | None = None
    export_id: RowId | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> HoldCreate:
        given = {
            "event_id": self.event_id is not None,
            "camera_id": self.camera_id is not None,
            "start": self.start is not None,
            "end": self.end is not None,
            "export_id": self.export_id is not None,
        }
        needed = {
            "event": {"event_id"}, "range": {"camera_id", "start", "end"},
            "export": {"export_id"},
        }[self.kind]
        if {k for k, v in given.items() if v} != needed:
            raise ValueError(f"a {self.kind} hold takes exactly {', '.join(sorted(needed))}")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must come after start")
        return self


class HoldRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1024)


class HoldOut(BaseModel):
    id: int
    kind: HoldKind
    camera_id: int | None
    event_id: int | None
    export_id: int | None
    start: datetime | None
    end: datetime | None
    reason: str
    created_by: int | None
    created_by_name: str | None
    created_at: datetime
    released_at: datetime | None
    released_by_name: str | None
    release_reason: str | None
    active: bool


class HoldPage(BaseModel):
    items: list[HoldOut]
    total: int
